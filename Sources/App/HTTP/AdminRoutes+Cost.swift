import Foundation
import Hummingbird
import NIOCore
import TelemetryBootstrap

/// The admin API's cost export: the same report as `runway cost report --format csv`.
struct AdminCostRoutes: Sendable {
    let database: Database

    func add(to group: RouterGroup<AppRequestContext>) {
        group.get("cost/export", use: export)
    }

    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let period: (Date, Date)
        do {
            period = try CostReport.period(from: request.query("from"), to: request.query("to"))
        } catch let error as CostReport.InvalidPeriod {
            throw Problem.badRequest("invalid-period", error.describe(option: { $0 }))
        }
        let report = try await CostReport.load(database: database, from: period.0, to: period.1, logger: context.logger)
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: #"attachment; filename="runway-cost.csv""#],
            body: .init(byteBuffer: ByteBuffer(string: report.csv))
        )
    }
}
