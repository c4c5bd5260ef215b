import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

/// Tenant B, for every endpoint, gets exactly what it would get for data that does not exist.
@Suite struct TenantIsolationTests {
    /// The response with its request id removed, for comparing two responses.
    func shape(_ response: TestResponse) throws -> String {
        var object = (try? response.object) ?? [:]
        object["request_id"] = nil  // per request, like the trace id
        object["trace_id"] = nil
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return "\(response.status.code) \(response.headers[.contentType] ?? "") \(String(decoding: data, as: UTF8.self))"
    }

    @Test func anotherTenantsDataIsIndistinguishableFromMissingData() async throws {
        let app = try await TestApp()
        let (_, a) = try await app.makeTenant()
        let (_, b) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: a, json: #"{"name":"secret"}"#)
            _ = try await client.send(
                .put,
                "/v1/collections/secret/documents/doc-1",
                key: a,
                json: #"{"owner":"a","text":"confidential plans"}"#
            )
            let filter = #"{"owner":"a"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!

            // (B on A's data, B on names that exist nowhere)
            let pairs: [(HTTPRequest.Method, String, String, String?, HTTPFields)] = [
                (.get, "/v1/collections/secret/documents/doc-1", "/v1/collections/nothing/documents/doc-1", nil, [:]),
                (.get, "/v1/collections/secret/documents", "/v1/collections/nothing/documents", nil, [:]),
                (.get, "/v1/collections/secret/documents?filter=\(filter)", "/v1/collections/nothing/documents?filter=\(filter)", nil, [:]),
                (.get, "/v1/collections/secret/search?q=confidential", "/v1/collections/nothing/search?q=confidential", nil, [:]),
                (
                    .put, "/v1/collections/secret/documents/doc-1", "/v1/collections/nothing/documents/doc-1", #"{"owner":"b"}"#,
                    [.ifMatch: "*"]
                ),
                (.delete, "/v1/collections/secret/documents/doc-1", "/v1/collections/nothing/documents/doc-1", nil, [:]),
                (.delete, "/v1/collections/secret", "/v1/collections/nothing", nil, [:]),
            ]
            for (method, theirs, missing, json, headers) in pairs {
                let onTheirs = try await client.send(method, theirs, key: b, json: json, headers: headers)
                let onMissing = try await client.send(method, missing, key: b, json: json, headers: headers)
                #expect(onTheirs.status == .notFound, "\(method) \(theirs)")
                #expect(try shape(onTheirs) == shape(onMissing), "\(method) \(theirs)")
            }
            // B's own collection of the same name is B's alone, and B's writes never touch A's.
            #expect(try await client.send(.post, "/v1/collections", key: b, json: #"{"name":"secret"}"#).status == .created)
            #expect(
                try await client.send(.put, "/v1/collections/secret/documents/doc-1", key: b, json: #"{"owner":"b"}"#).status == .created
            )
            let list = try await client.send(.get, "/v1/collections", key: b).object
            #expect((list["collections"] as? [[String: Any]])?.count == 1)
            let bSearch = try await client.send(.get, "/v1/collections/secret/search?q=confidential", key: b).object
            #expect((bSearch["results"] as? [Any])?.isEmpty == true)

            // A's document is untouched.
            let mine = try await client.send(.get, "/v1/collections/secret/documents/doc-1", key: a).object
            #expect(mine["owner"] as? String == "a")
        }
    }
}
