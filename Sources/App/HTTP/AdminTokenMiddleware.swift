import Hummingbird

/// Lets through only requests bearing the admin token.
struct AdminTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let presented = bearerToken(header),
            constantTimeEquals(APIKey.hash(String(presented)), APIKey.hash(token))
        else {
            throw Problem.unauthorized("send Authorization: Bearer <admin token>")
        }
        return try await next(request, context)
    }
}
