import Logging
import Testing
import Tracing

@testable import Telemetry

@Suite struct RunwayTracerTests {
    struct Failure: Error {}

    @Test func withSpanAnywhereLandsInTheTracerWithParentsKindsAndStatus() throws {
        let collector = SpanCollector()
        let tracer = collector.makeTracer()
        try? withTracer(tracer) {
            try withSpan("GET /v1/collections/{c}", ofKind: .server) { root in
                root.attributes["tenant"] = "acme"
                withSpan("SELECT documents", ofKind: .client) { child in
                    child.attributes["db.operation"] = "SELECT"
                }
                throw Failure()
            }
        }
        let spans = collector.all
        #expect(spans.map(\.name) == ["SELECT documents", "GET /v1/collections/{c}"])
        let (child, root) = (spans[0], spans[1])
        #expect(child.traceID == root.traceID)
        #expect(child.parentSpanID == root.spanID)
        #expect(root.parentSpanID == nil)
        #expect(root.kind == .server && child.kind == .client)
        #expect(root.attributes.get("tenant") == .string("acme"))
        #expect(root.status?.code == .error)
        #expect(root.events.map(\.name) == ["exception"])
        #expect(root.flags == [.sampled, .random])
        #expect(root.otlpFlags == 0x103)
        #expect(root.startNanoseconds <= root.endNanoseconds)
        #expect(tracer.counters.snapshot.isBalanced)
    }

    @Test func aRemoteParentIsContinuedAndMarkedRemote() throws {
        let collector = SpanCollector()
        let tracer = collector.makeTracer { $0.sampleRatio = 0 }
        var context = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
            into: &context,
            using: DictionaryExtractor()
        )
        let span = tracer.startSpan("server", context: context, ofKind: .server, at: TestInstant.milliseconds(0))
        let child = tracer.startSpan("child", context: span.context, ofKind: .internal, at: TestInstant.milliseconds(1))
        child.end(at: TestInstant.milliseconds(2))
        span.end(at: TestInstant.milliseconds(3))
        let spans = collector.all
        #expect(spans.count == 2)  // the parent's sampled flag wins over ratio 0
        #expect(spans[1].parentSpanID == SpanID(hex: "00f067aa0ba902b7"))
        #expect(spans[1].otlpFlags == 0x301)
        #expect(spans[0].otlpFlags == 0x101)
    }

    @Test func anUnsampledFastTraceIsDiscardedWhole() {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.sampleRatio = 0
            $0.slowThreshold = .milliseconds(100)
        }
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        #expect(root.isRecording)
        #expect(!root.spanContext.isSampled)
        let child = tracer.startSpan("child", context: root.context, ofKind: .client, at: TestInstant.milliseconds(1))
        child.end(at: TestInstant.milliseconds(20))
        #expect(tracer.counters.snapshot.held == 1)
        root.end(at: TestInstant.milliseconds(99))
        #expect(collector.all.isEmpty)
        let counters = tracer.counters.snapshot
        #expect(counters.discardedByTail == 2)
        #expect(counters.held == 0)
        #expect(counters.isBalanced)
        // A straggler that ends after the decision follows it.
        let late = tracer.startSpan("late", context: root.context, ofKind: .internal, at: TestInstant.milliseconds(100))
        late.end(at: TestInstant.milliseconds(101))
        #expect(collector.all.isEmpty)
        #expect(tracer.counters.snapshot.discardedByTail == 3)
    }

    @Test func anUnsampledSlowTraceIsKeptWithItsChildren() throws {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.sampleRatio = 0
            $0.slowThreshold = .milliseconds(100)
        }
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        let child = tracer.startSpan("child", context: root.context, ofKind: .client, at: TestInstant.milliseconds(1))
        let grandchild = tracer.startSpan("grandchild", context: child.context, ofKind: .client, at: TestInstant.milliseconds(2))
        grandchild.end(at: TestInstant.milliseconds(3))
        child.end(at: TestInstant.milliseconds(90))
        #expect(collector.all.isEmpty)
        root.end(at: TestInstant.milliseconds(100))
        #expect(collector.names == ["grandchild", "child", "root"])
        #expect(collector.all.allSatisfy { $0.flags.contains(.sampled) && $0.traceID == root.spanContext.traceID })
        #expect(collector.all[2].attributes.get("sampling.kept_by") == .string("slow"))
        #expect(tracer.counters.snapshot.tracesKeptSlow == 1)
        #expect(tracer.counters.snapshot.isBalanced)
    }

    @Test func anUnsampledTraceWithAnErrorIsKeptAtRatioZero() {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.sampleRatio = 0
            $0.slowThreshold = nil
        }
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        let child = tracer.startSpan("child", context: root.context, ofKind: .client, at: TestInstant.milliseconds(1))
        child.setStatus(.init(code: .error, message: "deadlock detected"))
        child.end(at: TestInstant.milliseconds(2))
        root.end(at: TestInstant.milliseconds(3))
        #expect(collector.names == ["child", "root"])
        #expect(collector.all[0].status == SpanStatus(code: .error, message: "deadlock detected"))
        #expect(tracer.counters.snapshot.tracesKeptError == 1)

        let errorRoot = tracer.startSpan("error root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        errorRoot.setStatus(.init(code: .error))
        errorRoot.end(at: TestInstant.milliseconds(1))
        #expect(collector.names.last == "error root")
    }

    @Test func withTheTailRulesOffUnsampledSpansAreNotRecorded() {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.sampleRatio = 0
            $0.slowThreshold = nil
            $0.keepErrors = false
        }
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        #expect(!root.isRecording)
        root.attributes["a"] = 1
        root.end(at: TestInstant.milliseconds(10_000))
        #expect(collector.all.isEmpty)
        #expect(tracer.counters.snapshot.ended == 0)
    }

    @Test func heldSpansAreBoundedAndTheOverflowIsCounted() {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.sampleRatio = 0
            $0.slowThreshold = .milliseconds(1)
            $0.maximumHeldSpans = 2
        }
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server, at: TestInstant.milliseconds(0))
        for index in 0..<3 {
            tracer.startSpan("child \(index)", context: root.context, ofKind: .internal, at: TestInstant.milliseconds(0))
                .end(at: TestInstant.milliseconds(1))
        }
        #expect(tracer.counters.snapshot.droppedHeldFull == 1)
        root.end(at: TestInstant.milliseconds(5))
        #expect(collector.names == ["child 0", "child 1", "root"])
        let counters = tracer.counters.snapshot
        #expect(counters.ended == 4 && counters.handedToSink == 3 && counters.droppedHeldFull == 1)
        #expect(counters.isBalanced)
    }

    @Test func limitsDropAndTruncateWithCounts() throws {
        let collector = SpanCollector()
        let tracer = collector.makeTracer {
            $0.limits.attributeValueLength = 2047
            $0.limits.eventCount = 2
            $0.limits.linkCount = 1
            $0.limits.attributesPerEvent = 1
        }
        let span = tracer.startSpan("limits", context: .topLevel, ofKind: .internal, at: TestInstant.milliseconds(0))
        for index in 0..<200 { span.attributes["key" + String(String(index + 1000).dropFirst())] = index }
        span.attributes["key000"] = "replaced"  // an existing key can still change
        span.attributes["long"] = SpanAttribute.string(String(repeating: "é", count: 5000))  // dropped: the span is full
        span.attributes["key001"] = SpanAttribute.stringArray([String(repeating: "€", count: 1000), "short"])
        for index in 0..<4 { span.addEvent(SpanEvent(name: "event \(index)", attributes: ["a": 1, "b": 2])) }
        let other = tracer.startSpan("other", context: .topLevel, ofKind: .internal, at: TestInstant.milliseconds(0))
        span.addLink(SpanLink(context: other.context, attributes: ["why": "batch"]))
        span.addLink(SpanLink(context: other.context, attributes: [:]))
        span.end(at: TestInstant.milliseconds(1))
        let finished = try #require(collector.all.first)
        #expect(finished.attributes.count == 128)
        #expect(finished.droppedAttributeCount == 73)
        #expect(finished.attributes.get("key000") == .string("replaced"))
        #expect(finished.attributes.get("key127") != nil && finished.attributes.get("key128") == nil)
        guard case .stringArray(let values) = finished.attributes.get("key001") else {
            Issue.record("not a string array")
            return
        }
        #expect(values[0].utf8.count == 2046)  // 682 three-byte characters: cut on a boundary
        #expect(values[0] == String(repeating: "€", count: 682))
        #expect(values[1] == "short")
        #expect(finished.events.count == 2 && finished.droppedEventCount == 2)
        #expect(finished.events[0].attributes.count == 1 && finished.events[0].droppedAttributeCount == 1)
        #expect(finished.links.count == 1 && finished.droppedLinkCount == 1)
        #expect(finished.links[0].spanID == other.spanContext.spanID)
        #expect(finished.links[0].otlpFlags == 0x103)
    }

    @Test func valueLengthIsCutOnAUTF8Boundary() {
        #expect(SpanLimits.prefix(of: String(repeating: "é", count: 10), bytes: 5) == "éé")
        #expect(SpanLimits.prefix(of: "abc", bytes: 5) == "abc")
        #expect(SpanLimits.prefix(of: "a😀", bytes: 4) == "a")
    }

    @Test func okStatusIsFinalAndEndIsIdempotent() {
        let collector = SpanCollector()
        let tracer = collector.makeTracer()
        let span = tracer.startSpan("s", context: .topLevel, ofKind: .internal, at: TestInstant.milliseconds(0))
        span.setStatus(.init(code: .ok, message: "ignored"))
        span.setStatus(.init(code: .error, message: "too late"))
        span.end(at: TestInstant.milliseconds(1))
        span.end(at: TestInstant.milliseconds(2))
        span.attributes["after"] = true
        #expect(collector.all.count == 1)
        #expect(collector.all[0].status == SpanStatus(code: .ok))
        #expect(collector.all[0].endNanoseconds == TestInstant.milliseconds(1).nanosecondsSinceEpoch)
    }

    @Test func suppressedTracingRecordsNothing() async {
        let collector = SpanCollector()
        let tracer = collector.makeTracer()
        await RunwayTracer.withTracingSuppressed {
            tracer.withSpan("export") { _ in }
        }
        #expect(collector.all.isEmpty)
    }

    @Test func theMetadataProviderAddsTraceAndSpanIDsInsideASpan() throws {
        let tracer = SpanCollector().makeTracer()
        #expect(Logger.MetadataProvider.tracing.get().isEmpty)
        try tracer.withSpan("request") { span in
            let metadata = Logger.MetadataProvider.tracing.get()
            #expect(metadata["trace_id"] == .string(span.spanContext.traceID.description))
            #expect(metadata["span_id"] == .string(span.spanContext.spanID.description))
            let id = try #require(metadata["trace_id"]).description
            #expect(id.count == 32)
        }
    }
}

@Suite struct IDGeneratorTests {
    @Test func idsAreValidAndDoNotRepeat() {
        let generator = IDGenerator()
        var traces = Set<TraceID>()
        var spans = Set<SpanID>()
        for _ in 0..<100_000 {
            let (trace, span) = generator.next(newTrace: true)
            #expect(trace?.isValid == true && span.isValid)
            traces.insert(trace!)
            spans.insert(span)
        }
        #expect(traces.count == 100_000 && spans.count == 100_000)
        #expect(generator.next(newTrace: false).traceID == nil)
    }
}
