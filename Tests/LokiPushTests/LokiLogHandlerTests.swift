import Logging
import Synchronization
import Testing

@testable import LokiPush

@Suite struct LokiLogHandlerTests {
    /// A sink that keeps what it is given, at a fixed time.
    static func capturingSink(
        _ options: LokiSink.Options = .init(labels: ["service_name": "runway", "env": "test"])
    ) throws -> (
        LokiSink, Captured
    ) {
        let records = Captured()
        let sink = try LokiSink(options: options, now: { 42 }) { record in records.append(record) }
        return (sink, records)
    }

    @Test func metadataIsMergedAsSwiftLogSpecifiesAndNeverBecomesALabel() throws {
        let (sink, records) = try Self.capturingSink()
        let provider = Logger.MetadataProvider { ["trace_id": "from-provider", "shared": "provider"] }
        var logger = Logger(label: "runway.http") { LokiLogHandler(label: $0, sink: sink, metadataProvider: provider) }
        logger[metadataKey: "shared"] = "handler"
        logger[metadataKey: "hb.request.id"] = "req-1"
        logger[metadataKey: "tenant"] = "acme"
        logger.info("served", metadata: ["shared": "call", "status": "200"])
        let record = try #require(records.all.first)
        #expect(record.labels.rendered == #"{env="test", level="info", service_name="runway"}"#)
        #expect(record.entry.line == "served")
        #expect(record.entry.timestampNanoseconds == 42)
        let metadata = Dictionary(uniqueKeysWithValues: record.entry.metadata.map { ($0.name, $0.value) })
        #expect(metadata["shared"] == "call")
        #expect(metadata["trace_id"] == "from-provider")
        #expect(metadata["hb_request_id"] == "req-1")
        #expect(metadata["tenant"] == "acme")
        #expect(metadata["logger"] == "runway.http")
        #expect(metadata["location"]?.hasPrefix("LokiLogHandlerTests.swift:") == true)
    }

    @Test func aValueThatMayChangeIsDescribedWhenLoggedThoughPlainLinesAreRenderedLater() throws {
        final class Count: CustomStringConvertible, Sendable {
            let value = Atomic(1)
            var description: String { "\(value.load(ordering: .relaxed))" }
        }
        let (sink, records) = try Self.capturingSink()
        let logger = Logger(label: "l") { LokiLogHandler(label: $0, sink: sink) }
        let count = Count()
        logger.info("counted", metadata: ["count": .stringConvertible(count), "tenant": "acme"])
        logger.info("plain", metadata: ["tenant": "acme"])
        count.value.store(2, ordering: .relaxed)
        let sent = records.all
        #expect(sent[0].entry.metadata.first { $0.name == "count" }?.value == "1")
        // The plain line is rendered when read (here, as on the pipeline's task): the same pairs,
        // sorted, with the handler's own after them.
        #expect(sent[1].entry.metadata.map(\.name) == ["tenant", "logger", "source", "location"])
        #expect(sent[1].metadataValue("tenant") == "acme")
    }

    @Test func levelsBelowTheHandlersLevelAreNotSent() throws {
        let (sink, records) = try Self.capturingSink()
        var logger = Logger(label: "l") { LokiLogHandler(label: $0, sink: sink) }
        logger.logLevel = .warning
        logger.info("dropped")
        logger.error("kept", error: TestFailure())
        let sent = records.all
        #expect(sent.map(\.entry.line) == ["kept"])
        #expect(sent.first?.labels.rendered.contains(#"level="error""#) == true)
        #expect(sent.first?.entry.metadata.contains { $0.name == "error" && $0.value == "boom" } == true)
    }

    @Test func olderLokiGetsTheMetadataAsLogfmtInTheLine() throws {
        var options = LokiSink.Options(labels: ["service_name": "runway"])
        options.structuredMetadata = false
        let (sink, records) = try Self.capturingSink(options)
        let logger = Logger(label: "l") { LokiLogHandler(label: $0, sink: sink) }
        logger.info("hello", metadata: ["tenant": "a b", "quote": "x\"y"])
        let record = try #require(records.all.first)
        #expect(record.entry.metadata.isEmpty)
        #expect(record.entry.line.hasPrefix(#"hello quote="x\"y" tenant="a b" logger=l source="#))
    }

    @Test func linesAndMetadataOverLokisLimitsAreCutAndCounted() throws {
        var options = LokiSink.Options(labels: ["service_name": "runway"])
        options.maximumLineBytes = 10
        options.maximumMetadataEntries = 3
        let (sink, records) = try Self.capturingSink(options)
        let logger = Logger(label: "l") { LokiLogHandler(label: $0, sink: sink) }
        logger.info("ééééééé")  // 14 bytes: cut to 10 on a character boundary
        logger.info("short", metadata: ["extra": "1"])  // four metadata entries: one too many
        let sent = records.all
        #expect(sent[0].entry.line == "ééééé")
        #expect(sent[1].entry.line == "short")
        #expect(sent[1].entry.metadata.count == 3)
        #expect(sink.truncated == 2)
    }

    @Test func labelNamesAreValidatedWhenTheSinkIsMade() {
        #expect(throws: LokiLabelError.self) { try LokiSink(options: .init(labels: ["bad-name": "x"])) { _ in } }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String { "boom" }
}

final class Captured: Sendable {
    private let records = Mutex<[LokiRecord]>([])
    func append(_ record: LokiRecord) { records.withLock { $0.append(record) } }
    var all: [LokiRecord] { records.withLock { $0 } }
}
