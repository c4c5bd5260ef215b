import Testing

@testable import App

@Suite struct APIKeyTests {
    @Test func generatedKeysHaveTheDocumentedShapeAndDiffer() {
        let keys = (0..<100).map { _ in APIKey.generate() }
        for key in keys {
            #expect(key.value.hasPrefix("rw_"))
            #expect(key.value.utf8.count == 3 + 12 + 32)
            #expect(APIKey(parsing: Substring(key.value)) == key)
            #expect(key.id == String(key.value.dropFirst(3).prefix(12)))
        }
        #expect(Set(keys.map(\.value)).count == keys.count)
    }

    @Test(arguments: ["", "rw_", "rw_short", "xx_" + String(repeating: "a", count: 44), "rw_" + String(repeating: "a", count: 43) + "!"])
    func malformedKeysDoNotParse(text: String) {
        #expect(APIKey(parsing: Substring(text)) == nil)
    }

    @Test func constantTimeComparisonComparesContent() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test func bearerTokensAreParsedCaseInsensitively() {
        #expect(bearerToken("Bearer abc") == "abc")
        #expect(bearerToken("bearer   abc") == "abc")
        #expect(bearerToken("Basic abc") == nil)
        #expect(bearerToken("Bearer") == nil)
    }
}
