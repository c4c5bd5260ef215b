import Testing
import Tracing

@testable import Telemetry

/// Test vectors from w3c/trace-context (`spec/20-http_request_header_format.md` and its test suite).
@Suite struct W3CTraceContextTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"

    @Test func aValidVersion00HeaderIsParsed() throws {
        let parsed = try #require(W3CTraceContext.parseTraceparent("00-\(Self.traceID)-\(Self.parentID)-01"))
        #expect(parsed.traceID.description == Self.traceID)
        #expect(parsed.traceID == TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736))
        #expect(parsed.parentID.description == Self.parentID)
        #expect(parsed.flags == .sampled)
    }

    static let flagCases: [(String, TraceFlags)] = [
        ("00-\(traceID)-\(parentID)-00", []),
        ("00-\(traceID)-\(parentID)-01", .sampled),
        ("00-\(traceID)-\(parentID)-03", [.sampled, .random]),
        ("00-\(traceID)-\(parentID)-ff", [.sampled, .random]),  // unknown bits cleared
        ("00-\(traceID)-\(parentID)-08", []),
    ]

    @Test(arguments: flagCases)
    func flagsKeepOnlyTheKnownBits(header: String, flags: TraceFlags) throws {
        #expect(try #require(W3CTraceContext.parseTraceparent(header)).flags == flags)
    }

    @Test(arguments: [
        "cc-\(traceID)-\(parentID)-01",  // a future version, exactly 55 characters
        "cc-\(traceID)-\(parentID)-01-what-the-future-will-be-like",  // more fields after a dash
        "01-\(traceID)-\(parentID)-09-",
        " 00-\(traceID)-\(parentID)-01\t",  // optional white space around the value
    ])
    func futureVersionsAndSurroundingWhiteSpaceAreRead(header: String) throws {
        let parsed = try #require(W3CTraceContext.parseTraceparent(header))
        #expect(parsed.traceID.description == Self.traceID)
        #expect(parsed.parentID.description == Self.parentID)
        #expect(parsed.flags.contains(.sampled))
    }

    @Test(arguments: [
        "ff-\(traceID)-\(parentID)-01",  // version ff is invalid
        "00-00000000000000000000000000000000-\(parentID)-01",  // all-zero trace id
        "00-\(traceID)-0000000000000000-01",  // all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-\(parentID)-01",  // uppercase trace id
        "00-\(traceID)-00F067AA0BA902B7-01",  // uppercase parent id
        "00-\(traceID)-\(parentID)-0A",  // uppercase flags
        "0A-\(traceID)-\(parentID)-01",  // uppercase version
        "00-\(traceID)-\(parentID)-01-extra",  // version 00 must end after the flags
        "00-\(traceID)-\(parentID)-1",  // short flags
        "00-\(traceID.dropLast())-\(parentID)-01",  // short trace id
        "00-\(traceID)-\(parentID.dropLast())-01",
        "00_\(traceID)-\(parentID)-01",  // wrong separators
        "00-\(traceID)_\(parentID)-01",
        "00-\(traceID)-\(parentID)_01",
        "cc-\(traceID)-\(parentID)-01x",  // a future version must continue with a dash
        "0-\(traceID)-\(parentID)-01",
        "00-\(traceID)-\(parentID)-0g",
        "00-\(traceID)-\(parentID)-01\u{00e9}",
        "",
        "garbage",
    ])
    func invalidHeadersAreIgnored(header: String) {
        #expect(W3CTraceContext.parseTraceparent(header) == nil)
    }

    @Test func traceparentIsFormattedInVersion00() throws {
        let parsed = try #require(W3CTraceContext.parseTraceparent("00-\(Self.traceID)-\(Self.parentID)-03"))
        #expect(
            W3CTraceContext.formatTraceparent(traceID: parsed.traceID, spanID: parsed.parentID, flags: parsed.flags)
                == "00-\(Self.traceID)-\(Self.parentID)-03"
        )
    }

    @Test(arguments: [
        ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ("rojo=00f067aa0ba902b7 ,\t congo=t61rcWkgMzE,,", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ("fw529a3039@dt=abc,1tenant@sys=x y", "fw529a3039@dt=abc,1tenant@sys=x y"),
        ("", ""),
        ("rojo=00f067aa0ba902b7,rojo=again", ""),  // a repeated key
        ("Rojo=1", ""),  // uppercase key
        ("rojo", ""),  // no value
        ("rojo=a=b", ""),  // '=' in the value
        ("rojo=trailing ", "rojo=trailing"),  // white space around a member is optional white space
        ("1abc=x", ""),  // a simple key starts with a letter
    ])
    func tracestateIsNormalisedOrDiscarded(header: String, expected: String) {
        #expect(W3CTraceContext.parseTracestate(header) == expected)
    }

    @Test func tracestateKeepsTheFirst32Members() {
        let members = (0..<33).map { "k\($0)=v\($0)" }
        let parsed = W3CTraceContext.parseTracestate(members.joined(separator: ","))
        #expect(parsed == members.prefix(32).joined(separator: ","))
    }

    @Test func extractReadsARemoteParentAndABadTracestateLeavesTraceparentIntact() throws {
        let tracer = SpanCollector().makeTracer()
        var context = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-\(Self.traceID)-\(Self.parentID)-01", "tracestate": "BAD KEY=1"],
            into: &context,
            using: DictionaryExtractor()
        )
        let parent = try #require(context.spanContext)
        #expect(parent.traceID.description == Self.traceID)
        #expect(parent.spanID.description == Self.parentID)
        #expect(parent.isRemote)
        #expect(parent.isSampled)
        #expect(parent.traceState == "")
    }

    @Test(arguments: ["ff-\(traceID)-\(parentID)-01", "00-\(traceID.uppercased())-\(parentID)-01"])
    func anInvalidTraceparentStartsANewRoot(header: String) throws {
        let collector = SpanCollector()
        let tracer = collector.makeTracer()
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": header, "tracestate": "rojo=1"], into: &context, using: DictionaryExtractor())
        #expect(context.spanContext == nil)
        tracer.startSpan("root", context: context, ofKind: .server, at: TestInstant.milliseconds(0)).end(at: TestInstant.milliseconds(1))
        let span = try #require(collector.all.first)
        #expect(span.parentSpanID == nil)
        #expect(span.traceID.description != Self.traceID.lowercased())
        #expect(span.traceState == "")
    }

    @Test func injectWritesTheCurrentSpanAndItsTracestate() throws {
        let tracer = SpanCollector().makeTracer()
        var incoming = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-\(Self.traceID)-\(Self.parentID)-03", "tracestate": "rojo=1,congo=2"],
            into: &incoming,
            using: DictionaryExtractor()
        )
        let span = tracer.startSpan("call", context: incoming, ofKind: .client, at: TestInstant.milliseconds(0))
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        #expect(headers["traceparent"] == "00-\(Self.traceID)-\(span.spanContext.spanID)-03")
        #expect(headers["tracestate"] == "rojo=1,congo=2")
        span.end(at: TestInstant.milliseconds(1))
    }
}
