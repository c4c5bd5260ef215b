import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

@Suite struct AdminAPITests {
    let bearer: HTTPFields = [.authorization: "Bearer \(TestApp.adminToken)"]

    @Test func everyAdminRouteRequiresTheToken() async throws {
        let app = try await TestApp()
        try await app.withAdminClient { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/admin/v1/tenants"), (.post, "/admin/v1/tenants"), (.get, "/admin/v1/plans")] {
                try await client.send(method, uri, key: nil, json: "{}").expectProblem(.unauthorized, "unauthorized")
                try await client.send(method, uri, key: "wrong-token-wrong-token", json: "{}").expectProblem(.unauthorized, "unauthorized")
            }
        }
    }

    @Test func tenantsAreCreatedListedRekeyedAndMovedBetweenPlans() async throws {
        let app = try await TestApp()
        let name = "admin-\(UUID().uuidString.prefix(8))"
        let (id, firstKey) = try await app.withAdminClient { client in
            let created = try await client.send(.post, "/admin/v1/tenants", key: TestApp.adminToken, json: #"{"name":"\#(name)"}"#)
            #expect(created.status == .created)
            let body = try created.object
            let tenant = try #require(body["tenant"] as? [String: Any])
            #expect(tenant["plan"] as? String == "free")
            try await client.send(.post, "/admin/v1/tenants", key: TestApp.adminToken, json: #"{"name":"\#(name)"}"#)
                .expectProblem(.conflict, "tenant-exists")
            try await client.send(.post, "/admin/v1/tenants", key: TestApp.adminToken, json: #"{"name":"x","plan":"platinum"}"#)
                .expectProblem(.unprocessableContent, "unknown-plan")
            return (try #require(tenant["id"] as? String), try #require(body["api_key"] as? String))
        }
        let status = try await app.withPublicClient { client in
            try await client.send(.get, "/v1/collections", key: firstKey).status
        }
        #expect(status == .ok)
        let secondKey = try await app.withAdminClient { client in
            let list = try await client.send(.get, "/admin/v1/tenants", key: TestApp.adminToken).object
            #expect((list["tenants"] as? [[String: Any]])?.contains { $0["name"] as? String == name } == true)
            let rotated = try await client.send(.post, "/admin/v1/tenants/\(id)/rotate-key", key: TestApp.adminToken).object
            let moved = try await client.send(.patch, "/admin/v1/tenants/\(id)", key: TestApp.adminToken, json: #"{"plan":"pro"}"#).object
            #expect(moved["plan"] as? String == "pro")
            try await client.send(.post, "/admin/v1/tenants/\(UUID())/rotate-key", key: TestApp.adminToken).expectProblem(
                .notFound,
                "tenant-not-found"
            )
            return try #require(rotated["api_key"] as? String)
        }
        try await app.withPublicClient { client in
            // The rotated key stops working at once; the new one works.
            try await client.send(.get, "/v1/collections", key: firstKey).expectProblem(.unauthorized, "unauthorized")
            #expect(try await client.send(.get, "/v1/collections", key: secondKey).status == .ok)
            #expect(try await client.send(.get, "/v1/usage", key: secondKey).object["plan"] as? String == "pro")
        }
    }

    @Test func plansAreListedAndEdited() async throws {
        let app = try await TestApp()
        try await app.withAdminClient { client in
            let plans = try await client.send(.get, "/admin/v1/plans", key: TestApp.adminToken).object
            let names = (plans["plans"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
            #expect(Set(["free", "pro", "enterprise"]).isSubset(of: Set(names)))
            let plan = "test-\(UUID().uuidString.prefix(6).lowercased())"
            let put = try await client.send(
                .put,
                "/admin/v1/plans/\(plan)",
                key: TestApp.adminToken,
                json: #"{"monthly_price_micros":1000000,"requests_per_second":5,"burst":5}"#
            )
            #expect(put.status == .ok)
            try await client.send(
                .put,
                "/admin/v1/plans/\(plan)",
                key: TestApp.adminToken,
                json: #"{"monthly_price_micros":-1,"requests_per_second":5,"burst":5}"#
            ).expectProblem(.unprocessableContent, "invalid-field")
            try await client.send(
                .put,
                "/admin/v1/plans/Bad%20Name",
                key: TestApp.adminToken,
                json: #"{"monthly_price_micros":1,"requests_per_second":5,"burst":5}"#
            ).expectProblem(.badRequest, "invalid-name")
        }
    }
}
