import Synchronization
import TelemetryBootstrap

/// One listener's connections: how many are open, and how many were refused or closed by a limit.
final class ConnectionCounters: Sendable {
    let open = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    private let lateHeaders = Atomic<Int>(0)
    private let idleTimeouts = Atomic<Int>(0)
    private let lateBodies = Atomic<Int>(0)

    /// Connections closed because their client was late with `phase`.
    func timedOut(_ phase: ConnectionDeadline.Phase) -> Int {
        switch phase {
        case .header: lateHeaders.load(ordering: .relaxed)
        case .idle: idleTimeouts.load(ordering: .relaxed)
        case .body: lateBodies.load(ordering: .relaxed)
        }
    }

    func recordTimeout(_ phase: ConnectionDeadline.Phase) {
        switch phase {
        case .header: lateHeaders.add(1, ordering: .relaxed)
        case .idle: idleTimeouts.add(1, ordering: .relaxed)
        case .body: lateBodies.add(1, ordering: .relaxed)
        }
    }

    /// The listeners' connection series, one family each with a `listener` label.
    static func writeMetrics(_ listeners: KeyValuePairs<String, ConnectionCounters>, into text: inout MetricsText) {
        text.family(
            "runway_http_connections",
            type: "gauge",
            help: "Open connections of a listener.",
            samples: listeners.map { listener, counters in
                (#"{listener="\#(listener)"}"#, Double(counters.open.load(ordering: .relaxed)))
            }
        )
        text.family(
            "runway_http_connections_closed_total",
            type: "counter",
            help:
                "Connections closed by a limit: refused (RUNWAY_MAX_CONNECTIONS), or a client too slow with its header, body or next request.",
            samples: listeners.flatMap { listener, counters in
                [(#"{listener="\#(listener)",reason="refused"}"#, Double(counters.refused.load(ordering: .relaxed)))]
                    + ConnectionDeadline.Phase.allCases.map { phase in
                        (#"{listener="\#(listener)",reason="\#(phase.rawValue)"}"#, Double(counters.timedOut(phase)))
                    }
            }
        )
    }
}
