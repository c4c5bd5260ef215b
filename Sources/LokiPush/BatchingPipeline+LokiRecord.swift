import Telemetry

extension BatchingPipeline where Exporter == LokiExporter {
    /// Enqueues a record at the memory it holds (``LokiRecord/bufferedBytes``); never blocks.
    /// Inlinable, so that the caller runs it specialised for its clock.
    @inlinable
    public func enqueue(_ record: LokiRecord) {
        enqueue(record, size: record.bufferedBytes)
    }
}
