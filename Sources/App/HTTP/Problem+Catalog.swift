import HTTPTypes

extension Problem {
    static func badRequest(_ slug: String, _ detail: String) -> Problem {
        Problem(.badRequest, slug, "Bad request", detail: detail)
    }
    static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, "unauthorized", "Unauthorized", detail: detail, headers: [.wwwAuthenticate: #"Bearer realm="runway""#])
    }
    /// A well-formed key that no live key matches (unknown, rotated or revoked).
    static let unknownKey = unauthorized("the API key is unknown or was rotated")
    static func notFound(_ slug: String, _ detail: String) -> Problem {
        Problem(.notFound, slug, "Not found", detail: detail)
    }
    static func conflict(_ slug: String, _ detail: String) -> Problem {
        Problem(.conflict, slug, "Conflict", detail: detail)
    }
    static let preconditionFailed = Problem(
        .preconditionFailed,
        "precondition-failed",
        "Precondition failed",
        detail: "the document's current version does not match If-Match or If-None-Match"
    )
    static func tooLarge(limit: Int) -> Problem {
        Problem(.contentTooLarge, "too-large", "Content too large", detail: "the body is larger than \(limit) bytes")
    }
    static let unsupportedMediaType = Problem(
        .unsupportedMediaType,
        "unsupported-media-type",
        "Unsupported media type",
        detail: "send the body as application/json"
    )
    static func unprocessable(_ slug: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, slug, "Unprocessable content", detail: detail)
    }
    static func rateLimited(retryAfterSeconds: Int) -> Problem {
        Problem(
            .tooManyRequests,
            "rate-limited",
            "Too many requests",
            detail: "the tenant's plan allows fewer requests per second; retry after \(retryAfterSeconds) s",
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }
    static let internalError = Problem(
        .internalServerError,
        "internal-error",
        "Internal server error",
        detail: "the request failed; it has been logged"
    )
    /// 503: retry in a second.
    static func unavailable(_ detail: String) -> Problem {
        Problem(.serviceUnavailable, "unavailable", "Service unavailable", detail: detail, headers: [.retryAfter: "1"])
    }
    static let unavailable = unavailable("the database cannot be reached or did not answer in time; retry later")
    /// Too many requests with keys this instance does not know (``KeyLookupLimit``).
    static let keyLookupsExhausted = unavailable("too many requests with unknown API keys right now; retry shortly")
}
