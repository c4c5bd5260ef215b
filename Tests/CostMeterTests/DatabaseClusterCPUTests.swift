import Foundation
import Testing

@testable import CostMeter

/// A cluster's CPU from a `/proc` written by the test: the postmaster, its backends and its
/// background processes, told apart by their titles.
@Suite struct DatabaseClusterCPUTests {
    /// A fake `/proc` with a postmaster (pid 100) and its children.
    private struct FakeProc {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
        var children: [Int32: (title: String, cpu: Int64)] = [:]

        func write(postmasterCPU: Int64 = 1_000, reaped ticks: Int = 0) throws {
            try file(100, "schedstat", "\(postmasterCPU) 0 0\n")
            // Fields after "(comm) ": state, ppid, then up to cutime and cstime (16 and 17).
            try file(100, "stat", "100 (postgres) S 1 100 100 0 -1 0 0 0 0 0 0 0 \(ticks) 0 20 0\n")
            try file(100, "task/100/children", children.keys.sorted().map(String.init).joined(separator: " "))
            for (pid, child) in children {
                try file(pid, "schedstat", "\(child.cpu) 0 0\n")
                try file(pid, "cmdline", child.title + "\0\0\0")
            }
        }

        private func file(_ pid: Int32, _ name: String, _ text: String) throws {
            let path = "\(root)/\(pid)/\(name)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func backgroundProcessesAreCountedByItemFromTheFirstReading() throws {
        var proc = FakeProc()
        defer { proc.remove() }
        proc.children = [
            101: ("postgres: runway_app runway [local] idle", 50_000),
            102: ("postgres: checkpointer ", 7_000),
            103: ("postgres: walwriter ", 3_000),
            104: ("postgres: autovacuum launcher ", 2_000),
            105: ("postgres: logical replication launcher ", 1_000),
        ]
        try proc.write()
        let cluster = DatabaseClusterCPU()
        cluster.attach(postmaster: 100, procRoot: proc.root)
        let first = try #require(cluster.reading())
        #expect(first.total == 1_000 + 50_000 + 7_000 + 3_000 + 2_000 + 1_000)
        #expect(first.background.isEmpty, "what ran before the first reading is nobody's interval")

        proc.children[101]!.cpu += 40_000
        proc.children[102]!.cpu += 5_000
        proc.children[103]!.cpu += 1_000
        proc.children[106] = ("postgres: autovacuum worker ", 2_500)  // started since: all of it counts
        try proc.write()
        let second = try #require(cluster.reading())
        #expect(second.total - first.total == 40_000 + 5_000 + 1_000 + 2_500)
        #expect(second.background == [.checkpoints: 5_000, .walWriter: 1_000, .autovacuum: 2_500])
        #expect(second.requestSide - first.requestSide == 40_000)

        // The worker exits: its CPU moves to the postmaster's reaped children, generic background.
        proc.children[106] = nil
        try proc.write(reaped: 1)
        let third = try #require(cluster.reading())
        #expect(third.background == second.background)
        #expect(third.total > second.total - 2_500)
    }

    @Test func aTitleIsABackgroundProcessOnlyWithoutAClient() throws {
        var proc = FakeProc()
        defer { proc.remove() }
        proc.children = [
            201: ("postgres: main: checkpointer ", 0),  // with cluster_name
            202: ("postgres: background writer ", 0),
            203: ("postgres: checkpointer runway [local] idle", 0),  // a user named checkpointer
            204: ("postgres: walwriter shop 10.0.0.7(51234) SELECT", 0),
            205: ("bash", 0),
        ]
        try proc.write()
        let items = proc.children.keys.sorted().map { DatabaseClusterCPU.backgroundItem(pid: $0, procRoot: proc.root) }
        #expect(items == [.checkpoints, .checkpoints, nil, nil, nil])
    }
}
