import Foundation
import Hummingbird
import Logging
import StarlingServe

/// Turns every error into a JSON `{"error": …}` response with a fitting status, so no request
/// ends without an answer; unexpected errors are logged and answered with 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return try JSONCoding.response(ErrorBody(error: error.description), status: .init(code: error.status))
        } catch let error as APIError {
            return try JSONCoding.response(ErrorBody(error: error.message), status: error.status)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return try JSONCoding.response(ErrorBody(error: message), status: error.status)
        } catch let error as RegistryError {
            switch error {
            case .unknownVersion: return try JSONCoding.response(ErrorBody(error: error.description), status: .notFound)
            case .nothingToRollBackTo: return try JSONCoding.response(ErrorBody(error: error.description), status: .conflict)
            case .badRegistry:
                logger.error("\(request.method) \(request.uri.path): model registry: \(error)")
                return try JSONCoding.response(ErrorBody(error: "model registry: \(error)"), status: .internalServerError)
            }
        } catch let error as DecodingError {
            return try JSONCoding.response(ErrorBody(error: JSONCoding.describe(error)), status: .badRequest)
        } catch {
            logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return try JSONCoding.response(ErrorBody(error: "internal error: \(error)"), status: .internalServerError)
        }
    }
}
