import HTTPTypes
import Hummingbird
import NIOCore
import ServiceContextModule
import Telemetry

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
