import NIOCore

extension EventLoop {
    /// Sleeps for `duration` on this event loop's timer, ending early (throwing) when the task is
    /// cancelled. Unlike `Task.sleep`, it arms no Dispatch timer: the bound on every database call
    /// wakes no thread of its own, and cancelling it is a timer-heap removal on a loop that is
    /// awake anyway for the query's I/O.
    func sleep(for duration: Duration) async throws {
        let scheduled = scheduleTask(in: TimeAmount(duration)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
