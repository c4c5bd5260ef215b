import Foundation
import HTTPTypes
import HummingbirdTesting
import TelemetryTesting
import Testing

@testable import App

@Suite struct DocumentAPITests {
    @Test func collectionsAreCreatedListedAndDeleted() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            let created = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"orders"}"#)
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/v1/collections/orders")
            try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"orders"}"#).expectProblem(
                .conflict,
                "collection-exists"
            )
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"archive"}"#)
            let list = try await client.send(.get, "/v1/collections", key: key).object
            let names = (list["collections"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["archive", "orders"])
            #expect(try await client.send(.delete, "/v1/collections/orders", key: key).status == .noContent)
            try await client.send(.delete, "/v1/collections/orders", key: key).expectProblem(.notFound, "collection-not-found")
        }
    }

    @Test func documentsRoundTripWithETagsAndOptimisticConcurrency() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"notes"}"#)
            let created = try await client.send(.post, "/v1/collections/notes/documents", key: key, json: #"{"title":"first","n":1}"#)
            #expect(created.status == .created)
            let id = try #require(try created.object["id"] as? String)
            let etag = try #require(created.headers[.eTag])
            #expect(created.headers[.location] == "/v1/collections/notes/documents/\(id)")

            let read = try await client.send(.get, "/v1/collections/notes/documents/\(id)", key: key)
            #expect(read.status == .ok)
            #expect(read.headers[.eTag] == etag)
            #expect(try read.object["title"] as? String == "first")
            let notModified = try await client.send(.get, "/v1/collections/notes/documents/\(id)", key: key, headers: [.ifNoneMatch: etag])
            #expect(notModified.status == .notModified)

            let replaced = try await client.send(
                .put,
                "/v1/collections/notes/documents/\(id)",
                key: key,
                json: #"{"title":"second"}"#,
                headers: [.ifMatch: etag]
            )
            #expect(replaced.status == .ok)
            let newTag = try #require(replaced.headers[.eTag])
            #expect(newTag != etag)
            try await client.send(
                .put,
                "/v1/collections/notes/documents/\(id)",
                key: key,
                json: #"{"title":"stale"}"#,
                headers: [.ifMatch: etag]
            )
            .expectProblem(.preconditionFailed, "precondition-failed")
            try await client.send(.delete, "/v1/collections/notes/documents/\(id)", key: key, headers: [.ifMatch: etag])
                .expectProblem(.preconditionFailed, "precondition-failed")
            #expect(try await client.send(.get, "/v1/collections/notes/documents/\(id)", key: key).object["title"] as? String == "second")
            #expect(
                try await client.send(.delete, "/v1/collections/notes/documents/\(id)", key: key, headers: [.ifMatch: newTag]).status
                    == .noContent
            )
            try await client.send(.get, "/v1/collections/notes/documents/\(id)", key: key).expectProblem(.notFound, "document-not-found")
        }
    }

    @Test func putCreatesOrReplacesAndIfNoneMatchOnlyCreates() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"c"}"#)
            let first = try await client.send(.put, "/v1/collections/c/documents/doc-1", key: key, json: #"{"v":1}"#)
            #expect(first.status == .created)
            let second = try await client.send(.put, "/v1/collections/c/documents/doc-1", key: key, json: #"{"v":2}"#)
            #expect(second.status == .ok)
            #expect(first.headers[.eTag] != second.headers[.eTag])
            try await client.send(.put, "/v1/collections/c/documents/doc-1", key: key, json: #"{"v":3}"#, headers: [.ifNoneMatch: "*"])
                .expectProblem(.preconditionFailed, "precondition-failed")
            #expect(
                try await client.send(.put, "/v1/collections/c/documents/doc-2", key: key, json: #"{"v":1}"#, headers: [.ifNoneMatch: "*"])
                    .status == .created
            )
            try await client.send(.put, "/v1/collections/c/documents/doc-3", key: key, json: #"{"v":1}"#, headers: [.ifMatch: "*"])
                .expectProblem(.preconditionFailed, "precondition-failed")
            try await client.send(.put, "/v1/collections/missing/documents/doc-1", key: key, json: #"{"v":1}"#)
                .expectProblem(.notFound, "collection-not-found")
        }
    }

    @Test func listingPagesWithACursorThatStaysCorrectUnderWrites() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"items"}"#)
            for i in 0..<25 {
                let id = String(format: "item-%02d", i)
                _ = try await client.send(
                    .put,
                    "/v1/collections/items/documents/\(id)",
                    key: key,
                    json: #"{"i":\#(i),"status":"\#(i % 2 == 0 ? "open" : "closed")"}"#
                )
            }
            var seen: [String] = []
            var cursor: String? = nil
            var page = 0
            repeat {
                let uri = "/v1/collections/items/documents?limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                let body = try await client.send(.get, uri, key: key).object
                let ids = try #require(body["documents"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                seen += ids
                cursor = body["next_cursor"] as? String
                if page == 0 {
                    // Writes between pages: a document before the cursor, one after it, one deleted after it.
                    _ = try await client.send(.put, "/v1/collections/items/documents/item-00a", key: key, json: #"{"late":true}"#)
                    _ = try await client.send(.put, "/v1/collections/items/documents/item-99", key: key, json: #"{"late":true}"#)
                    _ = try await client.send(.delete, "/v1/collections/items/documents/item-15", key: key)
                }
                page += 1
            } while cursor != nil
            let expected = (0..<25).filter { $0 != 15 }.map { String(format: "item-%02d", $0) } + ["item-99"]
            #expect(seen == expected)
            #expect(Set(seen).count == seen.count)

            // A stale cursor, whose last document is gone, still resumes after it.
            let first = try await client.send(.get, "/v1/collections/items/documents?limit=3", key: key).object
            let stale = try #require(first["next_cursor"] as? String)
            _ = try await client.send(.delete, "/v1/collections/items/documents/item-01", key: key)
            let resumed = try await client.send(.get, "/v1/collections/items/documents?limit=2&cursor=\(stale)", key: key).object
            let resumedIDs = try #require(resumed["documents"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(resumedIDs == ["item-02", "item-03"])

            let filter = #"{"status":"open"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let open = try await client.send(.get, "/v1/collections/items/documents?filter=\(filter)&limit=1000", key: key).object
            let openIDs = try #require(open["documents"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(openIDs == (0..<25).filter { $0 % 2 == 0 }.map { String(format: "item-%02d", $0) })
            #expect(open["next_cursor"] is NSNull)
        }
    }

    @Test func pagesAndSearchResultsAreCutByBytes() async throws {
        // Each document's text is 38 bytes: {"n": 0, "pad": "…"} as PostgreSQL writes it back.
        let app = try await TestApp(maxPageBytes: 100)
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"sized"}"#)
            for n in 0..<5 {
                let put = try await client.send(
                    .put,
                    "/v1/collections/sized/documents/d\(n)",
                    key: key,
                    json: #"{"n":\#(n),"pad":"word word word word"}"#
                )
                #expect(put.status == .created)
            }
            // 0, 38 and 76 bytes precede the first three: they start within 100; the fourth (114) would not.
            let first = try await client.send(.get, "/v1/collections/sized/documents?limit=1000", key: key).object
            let firstIDs = try #require(first["documents"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(firstIDs == ["d0", "d1", "d2"])
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try await client.send(.get, "/v1/collections/sized/documents?limit=1000&cursor=\(cursor)", key: key).object
            let secondIDs = try #require(second["documents"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(secondIDs == ["d3", "d4"])
            #expect(second["next_cursor"] is NSNull)
            // A limit below the byte bound still ends the page, with a cursor.
            let limited = try await client.send(.get, "/v1/collections/sized/documents?limit=2", key: key).object
            #expect((limited["documents"] as? [Any])?.count == 2 && limited["next_cursor"] is String)

            let found = try await client.send(.get, "/v1/collections/sized/search?q=word&limit=1000", key: key).object
            #expect((found["results"] as? [Any])?.count == 3)
            #expect(found["truncated"] as? Bool == true)
            let all = try await client.send(.get, "/v1/collections/sized/search?q=word&limit=2", key: key).object
            #expect((all["results"] as? [Any])?.count == 2 && all["truncated"] as? Bool == true)
        }
        // A document larger than the bound comes alone, never not at all.
        let tiny = try await TestApp(maxPageBytes: 10)
        let (_, other) = try await tiny.makeTenant()
        try await tiny.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: other, json: #"{"name":"big"}"#)
            _ = try await client.send(.put, "/v1/collections/big/documents/a", key: other, json: #"{"text":"larger than ten bytes"}"#)
            _ = try await client.send(.put, "/v1/collections/big/documents/b", key: other, json: #"{"text":"larger than ten bytes"}"#)
            let page = try await client.send(.get, "/v1/collections/big/documents", key: other).object
            #expect((page["documents"] as? [Any])?.count == 1 && page["next_cursor"] is String)
            let found = try await client.send(.get, "/v1/collections/big/search?q=larger", key: other).object
            #expect((found["results"] as? [Any])?.count == 1 && found["truncated"] as? Bool == true)
        }
    }

    @Test func searchRanksMatchingDocuments() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"articles"}"#)
            _ = try await client.send(
                .put,
                "/v1/collections/articles/documents/a",
                key: key,
                json: #"{"title":"Graviton pricing","body":"graviton graviton instances cost less"}"#
            )
            _ = try await client.send(
                .put,
                "/v1/collections/articles/documents/b",
                key: key,
                json: #"{"title":"Postgres","body":"row level security and a graviton note"}"#
            )
            _ = try await client.send(
                .put,
                "/v1/collections/articles/documents/c",
                key: key,
                json: #"{"title":"Unrelated","tags":["swift"]}"#
            )
            let results = try await client.send(.get, "/v1/collections/articles/search?q=graviton", key: key).object
            let ids = try #require(results["results"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(ids == ["a", "b"])
            #expect(results["truncated"] as? Bool == false)
            let none = try await client.send(.get, "/v1/collections/articles/search?q=kubernetes", key: key).object
            #expect((none["results"] as? [Any])?.isEmpty == true)
            try await client.send(.get, "/v1/collections/articles/search", key: key).expectProblem(.badRequest, "invalid-query")
        }
    }

    @Test func usageCountsTheTenantsOwnRequests() async throws {
        let app = try await TestApp()
        let (tenant, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"u"}"#)
            _ = try await client.send(.get, "/v1/collections/u/documents/missing", key: key)
            await app.services.usage.flush()
            _ = try await client.send(.get, "/v1/collections", key: key)
            let usage = try await client.send(.get, "/v1/usage", key: key).object
            #expect(usage["tenant"] as? String == tenant.id.uuidString)
            // Three requests before this one: two flushed to the database, one still pending.
            #expect(usage["requests"] as? Int == 3)
            #expect(usage["client_errors"] as? Int == 1)
            #expect((usage["days"] as? [Any])?.count == 1)
        }
    }

    @Test func thePlansRateLimitAnswers429WithRetryAfter() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant(plan: "free")  // 10 per second, burst 20
        try await app.withPublicClient { client in
            for _ in 0..<20 { #expect(try await client.send(.get, "/v1/collections", key: key).status == .ok) }
            let limited = try await client.send(.get, "/v1/collections", key: key)
            try limited.expectProblem(.tooManyRequests, "rate-limited")
            #expect(limited.headers[.retryAfter] == "1")
            app.clock.advance(by: .milliseconds(100))
            #expect(try await client.send(.get, "/v1/collections", key: key).status == .ok)
        }
    }
}
