import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

/// Each bad request gets a problem+json 4xx, and the service stays healthy afterwards.
@Suite struct BadInputTests {
    @Test func badBodiesAreClientErrors() async throws {
        let app = try await TestApp(maxDocumentBytes: 64 * 1024)
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"c"}"#)
            let path = "/v1/collections/c/documents/d"
            try await client.send(.put, path, key: key, json: #"{"a":"#).expectProblem(.badRequest, "malformed-json")
            try await client.send(.put, path, key: key, json: #"[1,2]"#).expectProblem(.unprocessableContent, "not-an-object")
            try await client.send(.put, path, key: key, json: #""text""#).expectProblem(.unprocessableContent, "not-an-object")
            let deep = "{\"a\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
            try await client.send(.put, path, key: key, json: deep).expectProblem(.unprocessableContent, "too-deep")
            try await client.send(.put, path, key: key, json: #"{"a":"\u0000"}"#).expectProblem(.unprocessableContent, "unsupported-value")
            try await client.send(.put, path, key: key, json: #"{"a":1e999999}"#).expectProblem(.unprocessableContent, "unsupported-value")

            var invalidUTF8 = ByteBuffer(string: #"{"a":""#)
            invalidUTF8.writeBytes([0xC3, 0x28])
            invalidUTF8.writeString(#""}"#)
            try await client.executeRequest(
                uri: path,
                method: .put,
                headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                body: invalidUTF8
            ).expectProblem(.badRequest, "invalid-utf8")

            try await client.send(.put, path, key: key, json: #"{"a":1}"#, headers: [.contentType: "text/plain"])
                .expectProblem(.unsupportedMediaType, "unsupported-media-type")
            try await client.executeRequest(
                uri: path,
                method: .put,
                headers: [.authorization: "Bearer \(key)"],
                body: ByteBuffer(string: "{}")
            )
            .expectProblem(.unsupportedMediaType, "unsupported-media-type")

            let big = "{\"a\":\"" + String(repeating: "x", count: 70 * 1024) + "\"}"
            try await client.send(.put, path, key: key, json: big).expectProblem(.contentTooLarge, "too-large")

            try await client.send(.post, "/v1/collections", key: key, json: #"{"title":"no name"}"#).expectProblem(
                .unprocessableContent,
                "invalid-field"
            )
            try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"bad name!"}"#).expectProblem(
                .badRequest,
                "invalid-name"
            )
            try await client.send(.post, "/v1/collections", key: key, json: #"{"name":42}"#).expectProblem(
                .unprocessableContent,
                "invalid-field"
            )

            #expect(try await client.send(.get, "/healthz", key: nil).status == .ok)
            #expect(try await client.send(.get, "/readyz", key: nil).status == .ok)
        }
    }

    @Test func aDocumentWithinTheSizeLimitButPastTheSearchIndexsIsA422() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        // About 1,000,000 bytes of distinct eight-letter words: more than PostgreSQL's 1 MiB of
        // lexemes and positions in a tsvector, less than the 1 MiB document limit.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = ""
        text.reserveCapacity(1_000_000)
        while text.utf8.count < 999_000 {
            for _ in 0..<8 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text.unicodeScalars.append(Unicode.Scalar(UInt8(97 + (state >> 33) % 26)))
            }
            text += " "
        }
        let document = #"{"text":"\#(text)"}"#
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"words"}"#)
            let put = try await client.send(.put, "/v1/collections/words/documents/w", key: key, json: document)
            try put.expectProblem(.unprocessableContent, "limit-exceeded")
        }
    }

    @Test func badQueriesAreClientErrors() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            _ = try await client.send(.post, "/v1/collections", key: key, json: #"{"name":"c"}"#)
            _ = try await client.send(.put, "/v1/collections/c/documents/d", key: key, json: #"{"a":1}"#)
            let injections = [
                "'; DROP TABLE documents; --", #"{"a":1}' OR '1'='1"#, #"{"a":"1') OR 1=1 --"}"#, "1; SELECT pg_sleep(10)",
            ]
            for injection in injections {
                let encoded = injection.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let response = try await client.send(.get, "/v1/collections/c/documents?filter=\(encoded)", key: key)
                if response.status == .ok {
                    // Valid JSON that merely looks like SQL is a filter that matches nothing.
                    #expect((try response.object["documents"] as? [Any])?.isEmpty == true, "\(injection)")
                } else {
                    try response.expectProblem(.badRequest, "invalid-filter")
                }
                let search = try await client.send(.get, "/v1/collections/c/search?q=\(encoded)", key: key)
                #expect(search.status == .ok, "\(injection)")
            }
            let otherCollection = ListCursor(collection: "other", filterDigest: "-", afterID: "d").encoded
            for cursor in ["garbage", "AAAA", otherCollection] {
                try await client.send(.get, "/v1/collections/c/documents?cursor=\(cursor)", key: key).expectProblem(
                    .badRequest,
                    "invalid-cursor"
                )
            }
            let filtered = ListCursor(collection: "c", filterDigest: ListCursor.digest(filter: #"{"a":1}"#), afterID: "d").encoded
            try await client.send(.get, "/v1/collections/c/documents?cursor=\(filtered)", key: key).expectProblem(
                .badRequest,
                "invalid-cursor"
            )
            for limit in ["0", "1001", "-5", "ten"] {
                try await client.send(.get, "/v1/collections/c/documents?limit=\(limit)", key: key).expectProblem(
                    .badRequest,
                    "invalid-limit"
                )
            }
            try await client.send(.get, "/v1/collections/nope/documents", key: key).expectProblem(.notFound, "collection-not-found")
            try await client.send(.get, "/v1/collections/c/documents/bad%20id", key: key).expectProblem(.badRequest, "invalid-id")
            try await client.send(.get, "/v1/no-such-route", key: key).expectProblem(.notFound, "not-found")
            #expect(try await client.send(.get, "/v1/collections/c/documents/d", key: key).status == .ok)
        }
    }

    @Test func missingOrMalformedCredentialsAre401() async throws {
        let app = try await TestApp()
        let (_, key) = try await app.makeTenant()
        try await app.withPublicClient { client in
            let cases: [HTTPFields] = [
                [:], [.authorization: "Basic dXNlcjpwYXNz"], [.authorization: "Bearer"], [.authorization: "Bearer not-a-key"],
                [.authorization: "Bearer rw_" + String(repeating: "A", count: 44)], [.authorization: "Bearer " + key + "x"],
            ]
            for headers in cases {
                let response = try await client.executeRequest(uri: "/v1/collections", method: .get, headers: headers, body: nil)
                try response.expectProblem(.unauthorized, "unauthorized")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            // A key with a known id but a wrong secret.
            let wrongSecret = String(key.prefix(15)) + String(repeating: "z", count: 32)
            try await client.send(.get, "/v1/collections", key: wrongSecret).expectProblem(.unauthorized, "unauthorized")
            #expect(try await client.send(.get, "/v1/collections", key: key).status == .ok)
        }
    }
}
