import Testing

@testable import App

@Suite struct JSONValidatorTests {
    func validate(_ text: String) throws(JSONValidator.Failure) -> JSONValidator.TopLevel {
        try JSONValidator.validate(Array(text.utf8))
    }

    @Test(arguments: [
        (#"{}"#, JSONValidator.TopLevel.object),
        (#" {"a": [1, -2.5e3, true, false, null, "x\n\u00e9\ud83d\ude00"]} "#, .object),
        (#"[]"#, .array),
        (#""text""#, .string),
        (#"0"#, .number),
        (#"null"#, .literal),
        ("{\"caf\u{e9}\": \"\u{1F600}\"}", .object),
    ])
    func acceptsValidJSON(text: String, kind: JSONValidator.TopLevel) throws {
        #expect(try validate(text) == kind)
    }

    /// The failure for `bytes`, or nil when they validate.
    func failure(_ bytes: [UInt8]) -> JSONValidator.Failure? {
        do {
            _ = try JSONValidator.validate(bytes)
            return nil
        } catch {
            return error
        }
    }

    func failure(_ text: String) -> JSONValidator.Failure? { failure(Array(text.utf8)) }

    @Test(arguments: [
        "", "{", "{\"a\":}", "{\"a\" 1}", "{a:1}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"tab\tinside\"", "{} {}", "{\"a\":1}}", "'single'", "NaN",
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(failure(text)?.kind == .malformed, "\(text)")
    }

    @Test func rejectsInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        ]
        for bytes in cases {
            #expect(failure(bytes)?.kind == .invalidUTF8, "\(bytes)")
            #expect(failure(bytes)?.offset == 1)
        }
    }

    @Test func rejectsNestingBeyondTheLimitWithoutRecursingThatDeep() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(failure(deep)?.kind == .tooDeep)
        #expect(failure("{\"a\":" + deep + "}")?.kind == .tooDeep)
        let depth = JSONValidator.maximumDepth
        #expect(failure(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)) == nil)
        #expect(failure(String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1))?.kind == .tooDeep)
    }

    @Test(arguments: [#""\u0000""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "1e100001"])
    func rejectsWhatJSONBCannotStore(text: String) {
        #expect(failure(text)?.kind == .unsupported, "\(text)")
    }
}
