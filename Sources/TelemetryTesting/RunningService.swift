import ServiceLifecycle
import ServiceLifecycleTestKit

/// Runs `service` (a telemetry pipeline, say) while `body` drives it, then shuts it down
/// gracefully and waits until it has returned, its final flush included.
public func withRunningService(_ service: some Service, _ body: () async throws -> Void) async throws {
    try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            try await body()
            trigger.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
