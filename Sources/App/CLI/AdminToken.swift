import Foundation
import Logging

/// The admin API's bearer token: `RUNWAY_ADMIN_TOKEN`, or one generated once into the data
/// directory (mode 0600) so a newcomer has one without configuring anything.
struct AdminToken {
    var value: String
    /// Where it came from, for the log (never the token itself).
    var source: String

    static func resolve(configuration: RunwayConfiguration, logger: Logger) throws -> AdminToken {
        if let token = configuration.adminToken {
            guard token.utf8.count >= 16 else {
                throw ConfigurationError(description: "RUNWAY_ADMIN_TOKEN must be at least 16 characters")
            }
            return AdminToken(value: token, source: "RUNWAY_ADMIN_TOKEN")
        }
        let path = configuration.dataDirectory + "/admin-token"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            !existing.isEmpty
        {
            return AdminToken(value: existing, source: path)
        }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let token = "rwadmin_" + String(APIKey.generate().value.dropFirst(APIKey.prefix.count))
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw ConfigurationError(description: "cannot write the admin token to \(path)") }
        logger.notice("generated an admin token", metadata: ["path": "\(path)"])
        return AdminToken(value: token, source: path)
    }
}
