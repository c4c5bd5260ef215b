import Foundation
import Testing

@testable import App

/// Public versions are a keyed permutation of the internal ones: they round-trip, stay JSON-safe,
/// and consecutive internal versions (another tenant's writes in between or not) look unrelated.
@Suite struct VersionCipherTests {
    let cipher = VersionCipher(key: Array(repeating: 7, count: 32))

    @Test func versionsRoundTripAndStayBelow2To48() {
        var seen = Set<Int64>()
        for version in [Int64(0), 1, 2, 3, 41, 42, 1 << 24, (1 << 24) + 1, (1 << 48) - 1] + (Int64(1000)..<2000) {
            let shown = cipher.encode(version)
            #expect((0..<(1 << 48)).contains(shown))
            #expect(cipher.decode(shown) == version)
            seen.insert(shown)
        }
        #expect(seen.count == 1009, "a permutation maps distinct versions to distinct ones")
        #expect(cipher.decode(-1) == nil && cipher.decode(1 << 48) == nil)
    }

    @Test func consecutiveVersionsShowNoOrder() {
        let shown = (1000..<1100).map { cipher.encode(Int64($0)) }
        let increasing = zip(shown, shown.dropFirst()).filter { $0 < $1 }.count
        // About half the steps go up, as for unrelated numbers; never (nearly) all of them.
        #expect((20...80).contains(increasing), "\(increasing) of 99 steps increase")
        #expect(VersionCipher(key: Array(repeating: 8, count: 32)).encode(1000) != shown[0])
    }

    /// The versions shown never change with the implementation: these were computed by Python's
    /// `hmac` and `hashlib` from the definition (round keys HMAC(key, [round]); each round the
    /// first three bytes of HMAC(round key, the right half's three bytes)).
    @Test func publicVersionsFollowTheDefinition() {
        #expect(cipher.encode(0) == 31_118_804_965_953)
        #expect(cipher.encode(1) == 212_465_912_739_301)
        #expect(cipher.encode(1000) == 269_386_369_851_181)
        #expect(cipher.encode((1 << 48) - 1) == 70_335_795_218_467)
    }
}
