import Foundation

/// A conformance decoder failed, or the Python tools are not set up.
public struct ConformanceError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs `scripts/conformance/<script>` with the test venv's Python (`RUNWAY_TEST_PYTHON`, set by
/// scripts/test) on `body`, written to a temporary file, and returns what it printed (JSON).
public func runConformanceDecoder(_ script: String, on body: [UInt8], arguments: [String] = []) throws -> Data {
    guard let python = ProcessInfo.processInfo.environment["RUNWAY_TEST_PYTHON"] else {
        throw ConformanceError(
            description: "RUNWAY_TEST_PYTHON is not set: run the tests with scripts/test, which prepares the Python tools"
        )
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString).bin")
    try Data(body).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/conformance/\(script)").standardized.path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [path, file.path] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ConformanceError(description: "\(script) failed: \(errorText)") }
    return data
}
