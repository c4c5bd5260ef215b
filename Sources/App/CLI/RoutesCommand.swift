import ArgumentParser
import Hummingbird
import Logging
import PostgresNIO

/// Prints every route both listeners register, one `METHOD /path` a line; the OpenAPI check
/// compares it with `openapi.yaml`.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "List the HTTP routes (for checking openapi.yaml).",
        shouldDisplay: false
    )

    func run() async throws {
        // The routers only hold the client; nothing connects.
        let client = PostgresClient(
            configuration: .init(unixSocketPath: "/nonexistent", username: "none", password: nil, database: nil),
            backgroundLogger: Logger(label: "routes")
        )
        let services = RunwayServices(
            clients: DatabaseClients(client),
            maxDocumentBytes: 1,
            usageFlushInterval: .seconds(1),
            logger: Logger(label: "routes")
        )
        for route in registeredRoutes(services: services) { print(route) }
    }
}

/// `METHOD /path` for every route of both routers, sorted.
func registeredRoutes(services: RunwayServices) -> [String] {
    let routers = [
        buildPublicRouter(services: services, rateLimiter: RateLimiter()),
        buildAdminRouter(services: services, adminToken: String(repeating: "x", count: 16)),
    ]
    return routers.flatMap { $0.routes.map { "\($0.method) \($0.path)" } }.sorted()
}
