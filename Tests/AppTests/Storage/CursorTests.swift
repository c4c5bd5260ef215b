import Foundation
import Testing

@testable import App

@Suite struct CursorTests {
    @Test func cursorsRoundTripAndForgeriesAreRefused() {
        let cursor = ListCursor(collection: "orders", filterDigest: ListCursor.digest(filter: #"{"a":1}"#), afterID: "doc-7")
        #expect(ListCursor(encoded: cursor.encoded) == cursor)
        #expect(!cursor.encoded.contains("="))
        for forged in ["", "!!!", "bm90IGEgY3Vyc29y", String(repeating: "A", count: 600), "YzEKb3JkZXJzCi0KJCQk"] {
            #expect(ListCursor(encoded: forged) == nil, "\(forged)")
        }
    }

    @Test func documentIDsAreTimeOrderedUUIDv7() {
        let ids = (0..<50).map { _ in makeDocumentID() }
        for id in ids {
            #expect(id.count == 36)
            #expect(Array(id)[14] == "7")
            #expect((try? Name.document(id)) != nil)
        }
        let early = makeDocumentID(now: .init(timeIntervalSince1970: 1_000_000))
        let late = makeDocumentID(now: .init(timeIntervalSince1970: 2_000_000))
        #expect(early < late)
    }
}
