import Foundation

/// A memory field of this process's `/proc/self/status` in MiB: `VmRSS` (resident now) or
/// `VmHWM` (the resident peak). 0 where there is no such file.
public func processMemoryMiB(_ field: String) -> Double {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
        return kilobytes / 1024
    }
    return 0
}
