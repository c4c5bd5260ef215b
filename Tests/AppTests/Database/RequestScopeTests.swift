import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import App

/// A request's tenant scope carries its key, which PostgreSQL checks again in the same round trip
/// as the work: caching keys never lets a rotated key through, and row-level security stays the
/// fence on the one-round-trip path.
@Suite struct RequestScopeTests {
    /// Two instances (each with its own key cache) on one database: a key rotated through one
    /// gets 401 from the other on its next request, on every kind of route.
    @Test func aKeyRotatedThroughOneInstanceIsRefusedAtOnceByAnother() async throws {
        let first = try await TestApp()
        let second = try await TestApp()
        let (tenant, key) = try await first.makeTenant()
        try await second.withPublicClient { client in
            try await #expect(client.send(.post, "/v1/collections", key: key, json: #"{"name":"c"}"#).status == .created)
            try await #expect(client.send(.put, "/v1/collections/c/documents/d", key: key, json: #"{"a":1}"#).status == .created)
            try await #expect(client.send(.get, "/v1/collections/c/documents/d", key: key).status == .ok)
        }
        let rotated = try await first.services.tenants.rotateKey(tenant: tenant.id, logger: TestDatabase.logger)
        try await second.withPublicClient { client in
            try await client.send(.get, "/v1/collections/c/documents/d", key: key).expectProblem(.unauthorized, "unauthorized")
            try await client.send(.put, "/v1/collections/c/documents/d", key: key, json: #"{"a":2}"#)
                .expectProblem(.unauthorized, "unauthorized")
            try await client.send(.get, "/v1/collections", key: key).expectProblem(.unauthorized, "unauthorized")
            try await client.send(.get, "/v1/usage", key: key).expectProblem(.unauthorized, "unauthorized")
            // Evicted, not merely refused: the next try is looked up afresh and still refused.
            try await client.send(.get, "/v1/collections/c/documents/d", key: key).expectProblem(.unauthorized, "unauthorized")
            let document = try await client.send(.get, "/v1/collections/c/documents/d", key: rotated.value)
            #expect(document.status == .ok)
            #expect(document.text == #"{"a": 1}"#)
        }
    }

    /// A key that is not the tenant's (or no longer live) enters nothing: the transaction fails
    /// before its first statement, in both the transaction and the one-statement paths.
    @Test func aScopeWhoseKeyIsNotTheTenantsEntersNothing() async throws {
        let app = try await TestApp()
        let (a, _) = try await app.makeTenant()
        let (_, keyOfB) = try await app.makeTenant()
        let b = try await Self.authenticate(keyOfB, app: app)
        let forged = TenantScope(tenant: a.id, keyID: try #require(b.scope.keyID), secretHash: try #require(b.scope.secretHash))
        await #expect(throws: TenantKeyNoLongerValid.self) {
            try await app.services.database.withTenant(forged, .select("documents"), logger: TestDatabase.logger) { _ in }
        }
        await #expect(throws: TenantKeyNoLongerValid.self) {
            _ = try await app.services.documents.document("d", in: "c", tenant: forged, logger: TestDatabase.logger)
        }
    }

    /// On the request path (a keyed scope), SQL that forgets its tenant filter still sees only the
    /// tenant's rows.
    @Test func anUnfilteredStatementInAKeyedScopeSeesOnlyItsTenant() async throws {
        let app = try await TestApp()
        let logger = TestDatabase.logger
        var scopes: [TenantScope] = []
        for documents in [["a1", "a2"], ["b1"]] {
            let (_, key) = try await app.makeTenant()
            let scope = try await Self.authenticate(key, app: app).scope
            scopes.append(scope)
            _ = try await app.services.documents.createCollection("c", tenant: scope, logger: logger)
            for id in documents {
                _ = try await app.services.documents.put(
                    id,
                    in: "c",
                    body: ByteBuffer(string: "{}"),
                    precondition: .none,
                    tenant: scope,
                    logger: logger
                )
            }
        }
        let seen = try await app.services.database.withTenant(scopes[0], .select("documents"), logger: logger) { connection in
            var ids: [String] = []
            for try await id in try await connection.query("SELECT id FROM documents", logger: logger).decode(String.self) {
                ids.append(id)
            }
            return ids.sorted()
        }
        #expect(seen == ["a1", "a2"])
        // The one-round-trip read cannot reach the other tenant's document either.
        await #expect(throws: DocumentStore.Failure.documentNotFound) {
            _ = try await app.services.documents.document("b1", in: "c", tenant: scopes[0], logger: logger)
        }
    }

    static func authenticate(_ key: String, app: TestApp) async throws -> AuthenticatedTenant {
        let parsed = try #require(APIKey(parsing: key[...]))
        let tenant = try await app.services.tenants.authenticate(parsed, logger: TestDatabase.logger)
        return try #require(tenant)
    }
}
