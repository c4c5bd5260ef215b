import DequeModule

/// A FIFO of entries bounded by the bytes they take, which drops the oldest to make room.
///
/// Not synchronised: the pipeline that owns it keeps it under its lock. Accounting goes to the
/// pipeline's ``PipelineCounters``.
public struct BoundedBuffer<Element> {
    public let capacityBytes: Int
    /// The most entries it holds (nil: bounded by bytes only).
    public let capacityEntries: Int?
    /// The bytes of the entries held.
    @inlinable public var bytes: Int { heldBytes }
    @usableFromInline var heldBytes = 0
    @usableFromInline var entries = Deque<(element: Element, size: Int)>()

    public init(capacityBytes: Int, capacityEntries: Int? = nil) {
        precondition(capacityBytes > 0, "a buffer needs room")
        precondition((capacityEntries ?? 1) > 0, "a buffer needs room")
        self.capacityBytes = capacityBytes
        self.capacityEntries = capacityEntries
    }

    @inlinable public var count: Int { entries.count }
    @inlinable public var isEmpty: Bool { entries.isEmpty }

    /// Appends `element` of `size` bytes. Returns how many old entries were dropped to make room;
    /// an element larger than the whole buffer is not stored and returns nil.
    @inlinable
    public mutating func append(_ element: Element, size: Int) -> Int? {
        guard size <= capacityBytes else { return nil }
        var dropped = 0
        let maximumEntries = capacityEntries ?? Int.max
        while heldBytes + size > capacityBytes || entries.count >= maximumEntries, let oldest = entries.popFirst() {
            heldBytes -= oldest.size
            dropped += 1
        }
        entries.append((element, size))
        heldBytes += size
        return dropped
    }

    /// Removes and returns the oldest entries whose sizes add up to at most `maxBytes`, and at most
    /// `maxEntries` of them (always at least one entry when the buffer is not empty).
    public mutating func removeBatch(maxBytes: Int) -> [Element] {
        removeSizedBatch(maxBytes: maxBytes).map(\.element)
    }

    /// ``removeBatch(maxBytes:)`` with each entry's size, so a batch can be put back.
    public mutating func removeSizedBatch(maxBytes: Int, maxEntries: Int? = nil) -> [(element: Element, size: Int)] {
        var batch: [(element: Element, size: Int)] = []
        var batchBytes = 0
        let maximumEntries = maxEntries ?? Int.max
        while let first = entries.first, batch.isEmpty || (batchBytes + first.size <= maxBytes && batch.count < maximumEntries) {
            entries.removeFirst()
            heldBytes -= first.size
            batchBytes += first.size
            batch.append(first)
        }
        return batch
    }

    /// Takes every entry out at once, oldest first, without moving them (O(1)). A caller that
    /// holds a lock around the buffer can split a batch off outside it, and ``prepend(_:)`` the
    /// rest back.
    public mutating func removeAllEntries() -> Deque<(element: Element, size: Int)> {
        defer {
            entries = Deque()
            heldBytes = 0
        }
        return entries
    }

    /// Puts entries back at the front, oldest first (a batch that could not be sent yet). They
    /// may take the buffer over its capacity until they are sent: they were counted already.
    public mutating func prepend(_ batch: some Collection<(element: Element, size: Int)>) {
        entries.prepend(contentsOf: batch)
        heldBytes += batch.reduce(0) { $0 + $1.size }
    }

    /// Removes everything.
    public mutating func removeAll() -> [Element] {
        let all = entries.map(\.element)
        entries.removeAll()
        heldBytes = 0
        return all
    }
}
