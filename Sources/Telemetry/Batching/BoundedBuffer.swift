import DequeModule

/// A FIFO of entries bounded by the bytes they take, which drops the oldest to make room, and
/// which cuts its entries into batches as they arrive.
///
/// A batch closes when the next entry would take it past ``batchBytes`` or ``batchEntries``, so
/// the sender takes a whole batch out in one step (``removeFirstBatch(onlyFull:)``), never entry
/// by entry while callers wait on the lock around the buffer.
///
/// Not synchronised: the pipeline that owns it keeps it under its lock. Accounting goes to the
/// pipeline's ``PipelineCounters``.
@usableFromInline
package struct BoundedBuffer<Element> {
    @usableFromInline package let capacityBytes: Int
    /// The most entries it holds (nil: bounded by bytes only).
    @usableFromInline package let capacityEntries: Int?
    /// A batch's most bytes (a single larger entry makes a batch of its own).
    @usableFromInline package let batchBytes: Int
    /// A batch's most entries (nil: bounded by bytes only).
    @usableFromInline package let batchEntries: Int?

    /// Entries in batches, oldest first; only the last one takes new entries. None is empty.
    @usableFromInline var batches = Deque<Stored>()
    @usableFromInline var heldBytes = 0
    @usableFromInline var heldCount = 0

    /// A batch while it is in the buffer: deques, so that the oldest entry can be dropped at once.
    @usableFromInline struct Stored {
        @usableFromInline var entries = Deque<Element>()
        @usableFromInline var sizes = Deque<Int>()
        @usableFromInline var bytes = 0

        @inlinable init() {}

        init(_ batch: Batch) {
            entries = Deque(batch.entries)
            sizes = Deque(batch.sizes)
            bytes = batch.bytes
        }
    }

    /// Entries taken out together, with their sizes (so that they can be put back).
    package struct Batch {
        package var entries: [Element]
        package var sizes: [Int]

        package init(entries: [Element], sizes: [Int]) {
            precondition(entries.count == sizes.count, "one size per entry")
            self.entries = entries
            self.sizes = sizes
        }

        init(_ stored: Stored) {
            entries = Array(stored.entries)
            sizes = Array(stored.sizes)
        }

        package var count: Int { entries.count }
        package var isEmpty: Bool { entries.isEmpty }
        package var bytes: Int { sizes.reduce(0, +) }

        /// The first `count` entries and the rest, for a batch the server found too large.
        func split(at count: Int) -> (Batch, Batch) {
            (
                Batch(entries: Array(entries[..<count]), sizes: Array(sizes[..<count])),
                Batch(entries: Array(entries[count...]), sizes: Array(sizes[count...]))
            )
        }
    }

    package init(capacityBytes: Int, capacityEntries: Int? = nil, batchBytes: Int = .max, batchEntries: Int? = nil) {
        precondition(capacityBytes > 0, "a buffer needs room")
        precondition((capacityEntries ?? 1) > 0, "a buffer needs room")
        precondition(batchBytes > 0 && (batchEntries ?? 1) > 0, "a batch needs room")
        self.capacityBytes = capacityBytes
        self.capacityEntries = capacityEntries
        self.batchBytes = batchBytes
        self.batchEntries = batchEntries
    }

    /// The bytes of the entries held.
    @inlinable package var bytes: Int { heldBytes }
    @inlinable package var count: Int { heldCount }
    @inlinable package var isEmpty: Bool { heldCount == 0 }

    /// Whether a full batch is waiting: a closed one, or the open one at a limit.
    @inlinable package var hasFullBatch: Bool {
        let open = batches.count - 1
        guard open >= 0 else { return false }
        return open > 0 || batches[open].bytes >= batchBytes || batches[open].entries.count >= batchEntries ?? Int.max
    }

    /// Appends `element` of `size` bytes. Returns how many old entries were dropped to make room;
    /// an element larger than the whole buffer is not stored and returns nil.
    @inlinable
    package mutating func append(_ element: Element, size: Int) -> Int? {
        guard size <= capacityBytes else { return nil }
        var dropped = 0
        let maximumEntries = capacityEntries ?? Int.max
        while heldBytes + size > capacityBytes || heldCount >= maximumEntries, removeOldest() {
            dropped += 1
        }
        // The open batch is read and changed in place (never copied out), so its deques stay
        // uniquely referenced and appending never copies them.
        let open = batches.count - 1
        if open >= 0, batches[open].bytes + size <= batchBytes, batches[open].entries.count < batchEntries ?? Int.max {
            batches[open].entries.append(element)
            batches[open].sizes.append(size)
            batches[open].bytes += size
        } else {
            // Room for a batch's worth of entries like this one, up to 4,096, up front: the open
            // batch then seldom grows (moving its entries) while callers wait on the lock.
            let room = Swift.min(batchEntries ?? Int.max, batchBytes / Swift.max(size, 1), 4096)
            var batch = Stored()
            batch.entries.reserveCapacity(room)
            batch.sizes.reserveCapacity(room)
            batch.entries.append(element)
            batch.sizes.append(size)
            batch.bytes = size
            batches.append(batch)
        }
        heldBytes += size
        heldCount += 1
        return dropped
    }

    /// Drops the oldest entry; false if there is none.
    @inlinable
    mutating func removeOldest() -> Bool {
        guard !batches.isEmpty else { return false }
        batches[0].entries.removeFirst()
        let size = batches[0].sizes.removeFirst()
        batches[0].bytes -= size
        if batches[0].entries.isEmpty { batches.removeFirst() }
        heldBytes -= size
        heldCount -= 1
        return true
    }

    /// Removes the oldest batch as it was stored, in one step; with `onlyFull`, nothing unless a
    /// full batch is waiting. The caller turns it into a ``Batch`` (copying it) after letting go
    /// of the lock around the buffer.
    mutating func removeFirstStored(onlyFull: Bool = false) -> Stored? {
        guard !batches.isEmpty, !onlyFull || hasFullBatch else { return nil }
        let batch = batches.removeFirst()
        heldBytes -= batch.bytes
        heldCount -= batch.entries.count
        return batch
    }

    /// Removes and returns the oldest batch (nil when empty); with `onlyFull`, nothing unless a
    /// full batch is waiting.
    package mutating func removeFirstBatch(onlyFull: Bool = false) -> Batch? {
        removeFirstStored(onlyFull: onlyFull).map(Batch.init)
    }

    /// Puts batches back at the front, the first of `batches` oldest (batches that could not be
    /// sent yet). They may take the buffer over its capacity until they are sent: they were
    /// counted already.
    package mutating func prepend(_ taken: [Batch]) {
        for batch in taken.reversed() where !batch.isEmpty {
            batches.prepend(Stored(batch))
            heldBytes += batch.bytes
            heldCount += batch.count
        }
    }

    /// Removes everything.
    package mutating func removeAll() -> [Element] {
        let all = batches.flatMap(\.entries)
        batches.removeAll()
        heldBytes = 0
        heldCount = 0
        return all
    }
}

extension BoundedBuffer.Batch: Sendable where Element: Sendable {}
extension BoundedBuffer.Batch: Equatable where Element: Equatable {}
