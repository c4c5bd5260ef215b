import Foundation

/// When to try a failed export again: exponential backoff with full jitter, or the server's
/// `Retry-After` (seconds or an HTTP-date) when it sends one, capped either way.
///
/// One policy serves every exporter; each decides which responses are retryable by its own
/// backend's contract.
public struct RetryPolicy: Sendable, Equatable {
    /// Upper bound of the first retry's delay. Default 500 ms.
    public var initialBackoff: Duration = .milliseconds(500)
    /// Upper bound of any backoff delay. Default 30 s.
    public var maximumBackoff: Duration = .seconds(30)
    /// Retries after the first attempt before the batch is dropped. Default 10.
    public var maximumRetries: Int = 10
    /// The longest `Retry-After` honoured; a longer one is cut to this. Default 60 s.
    public var maximumRetryAfter: Duration = .seconds(60)

    public init() {}

    /// The delay before retry number `retry` (1 for the first retry): a uniformly random duration
    /// between zero and `min(maximumBackoff, initialBackoff × 2^(retry-1))` ("full jitter").
    package func backoff(retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = backoffCeiling(retry: retry)
        let nanoseconds = ceiling.nanoseconds
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &generator))
    }

    /// The largest delay ``backoff(retry:using:)`` can return for `retry`.
    package func backoffCeiling(retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 62)
        let initial = initialBackoff.nanoseconds
        let (scaled, overflow) = initial.multipliedReportingOverflow(by: Int64(1) << Int64(exponent))
        let ceiling = overflow ? maximumBackoff.nanoseconds : min(scaled, maximumBackoff.nanoseconds)
        return .nanoseconds(ceiling)
    }

    /// The delay before retry number `retry`: the server's `Retry-After` if it sent a valid one
    /// (capped at ``maximumRetryAfter``), else the jittered backoff.
    package func delay(
        retry: Int,
        retryAfter: String?,
        now: Date = Date(),
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        if let retryAfter, let wait = Self.parseRetryAfter(retryAfter, now: now) {
            return min(wait, maximumRetryAfter)
        }
        return backoff(retry: retry, using: &generator)
    }

    /// Parses `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in IMF-fixdate,
    /// obsolete RFC 850 or asctime form. A date in the past means "now"; anything else is nil.
    package static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let seconds = Int64(text.prefix(12)) else { return nil }
            return .seconds(seconds)
        }
        for format in httpDateFormats {
            if let date = format.date(from: text) {
                let seconds = max(0, date.timeIntervalSince(now))
                return .milliseconds(Int64((seconds * 1000).rounded(.up)))
            }
        }
        return nil
    }

    private static let httpDateFormats: [DateFormatter] = [
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy",
    ].map { pattern in
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = pattern
        return formatter
    }
}
