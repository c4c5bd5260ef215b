import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

extension Problem {
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
