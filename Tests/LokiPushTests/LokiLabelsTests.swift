import Testing

@testable import LokiPush

@Suite struct LokiLabelsTests {
    @Test func labelsAreSortedJoinedAndEmptyValuesLeftOut() throws {
        let labels = try LokiLabels(["service_name": "runway", "level": "info", "env": "prod", "instance": ""])
        #expect(labels.rendered == #"{env="prod", level="info", service_name="runway"}"#)
        #expect(try LokiLabels([:]).rendered == "{}")
    }

    /// Expected strings are what Go's `strconv.Quote` returns for the same input.
    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote\"back\\slash", #""quote\"back\\slash""#),
        ("new\nline\ttab\rcr", #""new\nline\ttab\rcr""#),
        ("\u{07}\u{08}\u{0C}\u{0B}", #""\a\b\f\v""#),
        ("nul\u{00}esc\u{1B}del\u{7F}", #""nul\x00esc\x1bdel\x7f""#),
        ("café ☕ 😀", "\"café ☕ 😀\""),
        ("nbsp\u{A0}zwsp\u{200B}", #""nbsp\u00a0zwsp\u200b""#),
        ("private\u{F0000}", #""private\U000f0000""#),
        ("", #""""#),
    ])
    func valuesAreQuotedExactlyLikeGoStrconvQuote(value: String, expected: String) {
        var text = ""
        LokiLabels.appendQuoted(value, to: &text)
        #expect(text == expected)
    }

    @Test func invalidOrReservedNamesAreRefused() {
        for name in ["", "1abc", "with-dash", "__reserved", "ünicode", "sp ace"] {
            #expect(throws: LokiLabelError.self) { try LokiLabels([name: "v"]) }
        }
        #expect(LokiLabels.isValidName("_ok_1"))
    }
}
