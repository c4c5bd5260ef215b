/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
func bearerToken(_ header: String) -> Substring? {
    let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
    let token = parts[1].drop(while: { $0 == " " })
    return token.isEmpty ? nil : token
}
