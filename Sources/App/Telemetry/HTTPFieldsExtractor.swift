import HTTPTypes
import Tracing

/// Reads W3C trace context (and any other propagated fields) from request headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from headers: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { headers[$0] }
    }
}
