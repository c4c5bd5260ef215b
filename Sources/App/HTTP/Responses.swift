import Foundation
import Hummingbird
import NIOCore
import Telemetry

/// JSON response bodies. Documents themselves are never re-encoded: their stored JSON text is
/// written into the response as it is.
struct CollectionInfo: ResponseEncodable {
    var name: String
    var createdAt: Date
    var documents: Int64?

    enum CodingKeys: String, CodingKey {
        case name
        case createdAt = "created_at"
        case documents
    }
}

struct CollectionList: ResponseEncodable {
    var collections: [CollectionInfo]
}

struct DocumentWritten: ResponseEncodable {
    var id: String
    var version: Int64
}

struct UsageReport: ResponseEncodable {
    struct Day: Encodable {
        var day: String
        var counts: UsageCounts

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(day, forKey: .day)
            try counts.encode(to: encoder)
        }
        enum CodingKeys: String, CodingKey { case day }
    }
    var tenant: UUID
    var plan: String
    var from: String
    var totals: UsageCounts
    var days: [Day]
    /// What the tenant's requests cost this month, from the cost ledger.
    var cost: UsageCost

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenant, forKey: .tenant)
        try container.encode(plan, forKey: .plan)
        try container.encode(from, forKey: .from)
        try container.encode(days, forKey: .days)
        try container.encode(cost, forKey: .cost)
        try totals.encode(to: encoder)
    }
    enum CodingKeys: String, CodingKey { case tenant, plan, from, days, cost }
}

extension Response {
    /// A JSON response from bytes already encoded.
    static func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

extension ByteBuffer {
    /// `{"id":…,"version":…,"data":<stored JSON>}` for one document of a listing.
    mutating func writeDocumentEntry(_ document: StoredDocument, rank: Float? = nil) {
        writeString(#"{"id":"#)
        writeJSONString(document.id)
        writeString(#","version":\#(document.version)"#)
        if let rank { writeString(#","rank":\#(rank.isFinite ? rank : 0)"#) }
        writeString(#","data":"#)
        writeImmutableBuffer(document.body)
        writeString("}")
    }
}

/// ISO 8601 day (`2026-11-26`) of a day number since the epoch.
func isoDay(_ day: Int) -> String {
    let date = Date(timeIntervalSince1970: Double(day) * 86_400)
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.year, .month, .day], from: date)
    return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
}
