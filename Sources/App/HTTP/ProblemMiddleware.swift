import Hummingbird

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
