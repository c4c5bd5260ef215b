import Foundation
import Testing

@testable import CostMeter

@Suite struct BackendCPUTests {
    @Test func schedstatsFirstFieldIsTheOnCPUNanoseconds() {
        #expect(BackendCPU.parseSchedstat("123456789 98765 42\n") == 123_456_789)
        #expect(BackendCPU.parseSchedstat("0 0 0") == 0)
        #expect(BackendCPU.parseSchedstat("") == nil)
        #expect(BackendCPU.parseSchedstat("abc 1 2") == nil)
        #expect(BackendCPU.parseSchedstat("-5 1 2") == nil)
        #expect(BackendCPU.parseSchedstat("12345678901234567890 1 1") == nil)  // would overflow
    }

    @Test func ourOwnSchedstatIsReadable() throws {
        let pid = getpid()
        let first = try #require(BackendCPU.read(pid: pid))
        #expect(first > 0)
    }

    @Test func aKeptReaderSeesTheCPUGrowAndFailsOnceTheProcessIsGone() throws {
        // A child that burns CPU until it is killed.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "while :; do :; done"]
        try child.run()
        let reader = try #require(BackendCPU.Reader(pid: child.processIdentifier))
        let first = try #require(reader.read())
        var later = first
        while later == first { later = try #require(reader.read()) }  // the same descriptor, read again
        #expect(later > first)
        kill(child.processIdentifier, SIGKILL)  // SIGTERM may be ignored: the test runner's mask is inherited
        child.waitUntilExit()
        #expect(reader.read() == nil)
    }

    @Test func aBackendIsUsedOnlyWhenItIsAVisiblePostgresProcess() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (pid, name) in [(10, "postgres\n"), (11, "bash\n")] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)", withIntermediateDirectories: true)
            try Data(name.utf8).write(to: URL(fileURLWithPath: "\(root)/\(pid)/comm"))
            try Data("5000 1 1\n".utf8).write(to: URL(fileURLWithPath: "\(root)/\(pid)/schedstat"))
        }
        #expect(BackendCPU.probe(pid: 10, procRoot: root).visible)
        #expect(BackendCPU.read(pid: 10, procRoot: root) == 5000)
        let other = BackendCPU.probe(pid: 11, procRoot: root)
        #expect(!other.visible && other.reason.contains("not PostgreSQL"))
        let missing = BackendCPU.probe(pid: 12, procRoot: root)
        #expect(!missing.visible && missing.reason.contains("another host"))
    }
}
