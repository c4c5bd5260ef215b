import Foundation

/// A log line rendered into memory its caller lends (the stack, for most lines): no buffer object
/// per line. A line that outgrows it moves to the heap, which ``deallocate()`` frees.
package struct LineBytes {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Whether `base` is heap memory of this line's own.
    private var spilled = false
    package private(set) var count = 0

    package init(_ memory: UnsafeMutableBufferPointer<UInt8>) {
        base = memory.baseAddress!
        capacity = memory.count
    }

    /// Frees the heap memory a long line moved to; call once, when the line is no longer needed.
    package mutating func deallocate() {
        if spilled { base.deallocate() }
        spilled = false
        capacity = 0
        count = 0
    }

    package var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Room for `length` more bytes.
    private mutating func reserve(_ length: Int) {
        guard count + length > capacity else { return }
        let grown = max(2 * capacity, count + length)
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        memory.update(from: base, count: count)
        if spilled { base.deallocate() }
        base = memory
        capacity = grown
        spilled = true
    }

    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    /// ASCII punctuation and field names.
    mutating func append(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    package mutating func appendJSONString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            let length = JSONStringLiteral.length(of: utf8)
            reserve(length)
            JSONStringLiteral.write(utf8, length: length, to: base + count)
            count += length
        }
    }

    /// `time` as RFC 3339 in UTC with milliseconds (`2026-12-01T22:15:03.123Z`), without
    /// Foundation's formatters (this runs for every log line).
    package mutating func appendTimestamp(_ time: Date) {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days to civil date (Howard Hinnant's algorithm, proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDigits(year, 4)
        append(UInt8(ascii: "-"))
        appendDigits(month, 2)
        append(UInt8(ascii: "-"))
        appendDigits(day, 2)
        append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2)
        append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2)
        append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2)
        append(UInt8(ascii: "."))
        appendDigits(milliseconds - seconds * 1000, 3)
        append(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `width` digits (its last `width` digits if longer).
    private mutating func appendDigits(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
