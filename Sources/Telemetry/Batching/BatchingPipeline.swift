import ServiceLifecycle
import Synchronization

/// The one bounded, non-blocking batching pipeline every exporter reuses (Loki logs, spans, the
/// cost ledger).
///
/// - Callers ``enqueue(_:size:)`` and return at once: a lock, an append, no I/O, no waiting.
/// - The buffer is bounded in bytes; when full the oldest entries are dropped (`buffer_full`).
/// - ``run()`` sends full batches as soon as they are waiting, and everything else when the flush
///   interval passes (so the sender never competes with callers for one entry at a time);
///   it retries per the ``RetryPolicy``, splits a batch the server finds too large, and drops
///   what the server refuses for good, each counted by reason.
/// - On graceful shutdown it stops waiting, flushes what is left within the shutdown deadline,
///   and counts the rest as `shutdown`.
///
/// ``counters`` hold `enqueued = sent + dropped + buffered` at every moment.
public final class BatchingPipeline<Exporter: BatchExporter, C: Clock>: Service, Sendable where C.Duration == Duration {
    public typealias Entry = Exporter.Entry
    typealias Batch = BoundedBuffer<Entry>.Batch

    public let counters: PipelineCounters
    private let exporter: Exporter
    @usableFromInline let configuration: BatchingConfiguration
    private let clock: C
    @usableFromInline let buffer: Mutex<BoundedBuffer<Entry>>
    private let wakeups: AsyncStream<Void>
    @usableFromInline let wake: AsyncStream<Void>.Continuation
    private let shutdown = ShutdownSignal<C.Instant>()
    /// Set when the flush interval passed: the next pass also sends a partial batch.
    let flushDue = Atomic(false)

    public init(exporter: Exporter, configuration: BatchingConfiguration, clock: C) {
        self.counters = PipelineCounters(pipeline: configuration.name)
        self.exporter = exporter
        self.configuration = configuration
        self.clock = clock
        self.buffer = Mutex(
            BoundedBuffer(
                capacityBytes: configuration.maximumBufferBytes,
                capacityEntries: configuration.maximumBufferEntries,
                batchBytes: configuration.maximumBatchBytes,
                batchEntries: configuration.maximumBatchEntries
            )
        )
        (self.wakeups, self.wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Adds an entry of `size` bytes; never blocks and never waits on I/O. Inlinable, so that a
    /// caller in another module runs it specialised for its entry type.
    @inlinable
    public func enqueue(_ entry: Entry, size: Int) {
        // The sender is woken once per batch, when one fills: it then takes every full batch.
        let (stored, droppedOldest, batchReady) = buffer.withLock { buffer in
            let hadFullBatch = buffer.hasFullBatch
            guard let dropped = buffer.append(entry, size: size) else { return (false, 0, false) }
            return (true, dropped, !hadFullBatch && buffer.hasFullBatch)
        }
        guard stored else {
            counters.refused(1, reason: .tooLarge)
            return
        }
        counters.enqueued()
        counters.dropped(droppedOldest, reason: .bufferFull)
        if batchReady { wake.yield() }
    }

    public func run() async {
        let deadline = await withGracefulShutdownHandler {
            await withTaskGroup(of: RunEvent.self) { group in
                group.addTask { [clock, wake, shutdown, interval = configuration.flushInterval] in
                    while await Self.pause(interval, clock: clock, unless: shutdown) {
                        self.flushDue.store(true, ordering: .relaxed)
                        wake.yield()
                    }
                    return .helperStopped
                }
                group.addTask {
                    for await _ in self.wakeups {
                        guard await self.sendBuffered(deadline: nil) else { break }
                    }
                    return .sendLoopEnded
                }
                // The whole shutdown, an export in flight included, must end by the deadline.
                group.addTask { [clock, shutdown, limit = configuration.shutdownDeadline] in
                    guard let started = await shutdown.started() else { return .helperStopped }
                    let deadline = started.advanced(by: limit)
                    try? await clock.sleep(until: deadline, tolerance: nil)
                    return .deadlinePassed(deadline)
                }
                // An export in flight at shutdown may finish, until the deadline.
                var deadline: C.Instant? = nil
                loop: while let event = await group.next() {
                    switch event {
                    case .helperStopped: continue
                    case .sendLoopEnded: break loop
                    case .deadlinePassed(let instant):
                        deadline = instant
                        break loop
                    }
                }
                group.cancelAll()
                return deadline ?? shutdown.startedInstant.map { $0.advanced(by: configuration.shutdownDeadline) } ?? clock.now
            }
        } onGracefulShutdown: { [shutdown, wake, clock] in
            shutdown.start(at: clock.now)
            wake.finish()
        }
        await finalFlush(deadline: deadline)
    }

    private enum RunEvent: Sendable {
        case helperStopped
        case sendLoopEnded
        case deadlinePassed(C.Instant)
    }

    /// The oldest batch, taken out of the buffer in one step (the buffer cuts batches as entries
    /// arrive), so callers never wait on its lock for more than that; with `onlyFull`, nothing
    /// unless a full batch is waiting. `emptied`: the batch took the last entry there was (so a
    /// pass that may send a partial batch has sent what was waiting when it began).
    private func takeBatch(onlyFull: Bool) -> (batch: Batch?, emptied: Bool) {
        let (stored, emptied) = buffer.withLock { buffer in
            let stored = buffer.removeFirstStored(onlyFull: onlyFull)
            return (stored, buffer.isEmpty)
        }
        return (stored.map(Batch.init), emptied)
    }

    /// Sends the full batches buffered now, and a partial one too when the flush interval passed
    /// or at shutdown (`deadline`); false if it was interrupted (the rest went back).
    ///
    /// When the flush interval passed, the pass sends what was waiting, partial batch included,
    /// and from then on only full batches: what arrives during its sends waits for a full batch or
    /// the next interval, rather than going out a few entries per request for as long as callers
    /// keep logging.
    func sendBuffered(deadline: C.Instant?) async -> Bool {
        var onlyFull = deadline == nil && !flushDue.exchange(false, ordering: .relaxed)
        func nextBatch() -> Batch? {
            let (batch, emptied) = takeBatch(onlyFull: onlyFull)
            if emptied && deadline == nil { onlyFull = true }
            return batch
        }
        guard configuration.maximumConcurrentExports > 1 else {
            while let batch = nextBatch() {
                let unsettled = await send(batch, deadline: deadline)
                guard unsettled.isEmpty else {
                    buffer.withLock { $0.prepend(unsettled) }
                    return false
                }
            }
            return true
        }
        // Up to `maximumConcurrentExports` batches in flight; a finished one makes room for the next.
        return await withTaskGroup(of: [Batch].self) { group in
            var inFlight = 0
            var interrupted = false
            while true {
                while !interrupted, inFlight < configuration.maximumConcurrentExports {
                    guard let batch = nextBatch() else { break }
                    inFlight += 1
                    group.addTask { await self.send(batch, deadline: deadline) }
                }
                guard let unsettled = await group.next() else { return !interrupted }
                inFlight -= 1
                if !unsettled.isEmpty {
                    buffer.withLock { $0.prepend(unsettled) }
                    interrupted = true
                }
            }
        }
    }

    /// After shutdown: sends what is left until the deadline, then counts the rest as dropped.
    private func finalFlush(deadline: C.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.sendBuffered(deadline: deadline) }
            group.addTask { [clock] in try? await clock.sleep(until: deadline, tolerance: nil) }
            await group.next()
            group.cancelAll()
        }
        let rest = buffer.withLock { $0.removeAll() }
        counters.dropped(rest.count, reason: .shutdown)
    }

    /// Sends one batch, retrying and splitting as its results ask. Returns the batches left
    /// unsettled because the task was cancelled, oldest first; everything else is counted as sent
    /// or dropped.
    func send(_ batch: Batch, deadline: C.Instant?) async -> [Batch] {
        var pending = [batch]  // a stack: 413 halves are pushed second half first
        var generator = SystemRandomNumberGenerator()
        while let current = pending.popLast() {
            var retry = 0
            let exportDeadline = configuration.exportTimeout.map { clock.now.advanced(by: $0) }
            attempts: while true {
                func unsettled() -> [Batch] { [current] + pending.reversed() }
                if Task.isCancelled { return unsettled() }
                let started = clock.now
                let result = await exporter.export(current.entries)
                counters.exported(result, duration: started.duration(to: clock.now))
                switch result {
                case .delivered:
                    counters.sent(current.count)
                    break attempts
                case .rejected(let reason):
                    counters.dropped(current.count, reason: reason)
                    break attempts
                case .partiallyDelivered(let rejected, let reason):
                    counters.partiallySent(current.count, rejected: rejected, reason: reason)
                    break attempts
                case .tooLarge:
                    if current.count == 1 {
                        counters.dropped(1, reason: .tooLarge)
                    } else {
                        let (first, second) = current.split(at: current.count / 2)
                        pending.append(second)
                        pending.append(first)
                    }
                    break attempts
                case .retryable(let retryAfter):
                    if Task.isCancelled { return unsettled() }
                    retry += 1
                    guard retry <= configuration.retry.maximumRetries else {
                        counters.dropped(current.count, reason: .retriesExhausted)
                        break attempts
                    }
                    let delay = configuration.retry.delay(retry: retry, retryAfter: retryAfter, using: &generator)
                    if let exportDeadline, clock.now.advanced(by: delay) > exportDeadline {
                        counters.dropped(current.count, reason: .exportTimeout)
                        break attempts
                    }
                    if let deadline, clock.now.advanced(by: delay) > deadline {
                        counters.dropped(unsettled().reduce(0) { $0 + $1.count }, reason: .shutdown)
                        return []
                    }
                    if deadline == nil {
                        // Before shutdown a wait ends early when shutdown begins: the final flush
                        // takes the batch from there, under its deadline.
                        guard await Self.pause(delay, clock: clock, unless: shutdown) else { return unsettled() }
                    } else {
                        do {
                            try await clock.sleep(for: delay)
                        } catch {
                            return unsettled()
                        }
                    }
                }
            }
        }
        return []
    }
}

extension BatchingPipeline {
    /// Sleeps for `duration`; false if shutdown began first (or the task was cancelled).
    static func pause(_ duration: Duration, clock: C, unless shutdown: ShutdownSignal<C.Instant>) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await clock.sleep(for: duration)) != nil }
            group.addTask {
                _ = await shutdown.started()
                return false
            }
            let slept = await group.next() ?? false
            group.cancelAll()
            return slept && !shutdown.hasStarted
        }
    }
}

extension BatchingPipeline where C == ContinuousClock {
    public convenience init(exporter: Exporter, configuration: BatchingConfiguration = .init()) {
        self.init(exporter: exporter, configuration: configuration, clock: ContinuousClock())
    }
}
