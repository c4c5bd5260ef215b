import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceContextModule
import Telemetry
import _ConnectionPoolModule

/// An RFC 9457 problem: every error the API returns is one, as `application/problem+json`.
///
/// `type` is a stable URN (`urn:runway:problem:<slug>`) that clients can switch on; `detail`
/// is written for a person and never carries internal error text.
struct Problem: Error, HTTPResponseError, Equatable {
    let status: HTTPResponse.Status
    let slug: String
    let title: String
    let detail: String
    var headers: HTTPFields = [:]

    var type: String { "urn:runway:problem:\(slug)" }

    init(_ status: HTTPResponse.Status, _ slug: String, _ title: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response(requestID: context.id)
    }

    func response(requestID: String?) -> Response {
        var body = ByteBuffer()
        body.writeString(#"{"type":"#)
        body.writeJSONString(type)
        body.writeString(#","title":"#)
        body.writeJSONString(title)
        body.writeString(#","status":\#(status.code),"detail":"#)
        body.writeJSONString(detail)
        if let requestID {
            body.writeString(#","request_id":"#)
            body.writeJSONString(requestID)
        }
        // The trace the request ran in (every request has one): what a tenant quotes to support.
        if let traceID = ServiceContext.current?.spanContext?.traceID {
            body.writeString(#","trace_id":"#)
            body.writeJSONString(traceID.description)
        }
        body.writeString("}")
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

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

    /// The problem an error thrown anywhere below the middleware stands for.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let failure as DocumentStore.Failure:
            switch failure {
            case .collectionNotFound: return .notFound("collection-not-found", "no such collection")
            case .collectionExists: return .conflict("collection-exists", "a collection of that name exists")
            case .documentNotFound: return .notFound("document-not-found", "no such document")
            case .preconditionFailed: return .preconditionFailed
            }
        case is TenantKeyNoLongerValid:
            return .unknownKey
        case is KeyLookupsExhausted:
            return .keyLookupsExhausted
        case let invalid as InvalidName:
            return .badRequest(invalid.slug, invalid.detail)
        case let failure as TenantStore.Failure:
            switch failure {
            case .duplicateName: return .conflict("tenant-exists", "a tenant of that name exists")
            case .unknownPlan: return .unprocessable("unknown-plan", "no such plan")
            case .unknownTenant: return .notFound("tenant-not-found", "no such tenant")
            }
        case let error as any HTTPResponseError:
            return from(status: error.status)
        default:
            if let state = error.sqlState, state.hasPrefix("22") || state == SQLState.checkViolation {
                // A data exception the validators did not foresee is the client's input, not our fault.
                return .unprocessable("unsupported-value", "the database cannot store a value in this document")
            }
            if let state = error.sqlState, state.hasPrefix("54") {
                // program_limit_exceeded: within the size limit, yet past one of PostgreSQL's
                // (most often: more than 1 MiB of distinct words to index for search).
                return .unprocessable(
                    "limit-exceeded",
                    "the document exceeds a limit of the database, such as 1 MiB of words to index for search"
                )
            }
            if error.meansDatabaseUnreachable { return .unavailable }
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError
        }
    }

    /// A problem for a bare status raised by the framework (unknown route, oversized body…).
    static func from(status: HTTPResponse.Status) -> Problem {
        switch status {
        case .notFound: return .notFound("not-found", "no such route")
        case .methodNotAllowed:
            return Problem(status, "method-not-allowed", "Method not allowed", detail: "the route does not take this method")
        case .contentTooLarge: return Problem(status, "too-large", "Content too large", detail: "the body is too large")
        case .badRequest: return .badRequest("bad-request", "the request could not be read")
        default:
            return Problem(status, "http-\(status.code)", status.reasonPhrase, detail: status.reasonPhrase)
        }
    }
}

/// Renders every error as a problem document; the outermost middleware of both listeners.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Problem.from(error, logger: context.logger).response(requestID: context.id)
        }
    }
}

extension Error {
    /// True for errors that say PostgreSQL could not be reached, rather than that a query failed.
    var meansDatabaseUnreachable: Bool {
        if self is ConnectionPoolError || self is DatabaseTimeout || self is DatabaseConnectionClosed { return true }
        guard let error = self as? PSQLError else { return false }
        if let state = sqlState {
            // 08: connection exceptions; 57014: statement_timeout (the statement was cancelled and
            // its transaction rolled back); 57P01…57P03: the server is shutting down or starting.
            return state.hasPrefix("08") || state.hasPrefix("57")
        }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection].contains(error.code)
    }
}
