/// Who sends the spans: the OTLP resource and instrumentation scope written with every request.
public struct TempoResource: Sendable, Equatable {
    /// `service.name`. Default "runway".
    public var serviceName: String
    /// `service.version`.
    public var serviceVersion: String
    /// `service.instance.id`: one value per running process (a host name plus boot id, a UUID).
    public var instanceID: String
    /// `deployment.environment` (`production`, `staging`); left out when empty.
    public var environment: String
    /// Further resource attributes, written after the four above.
    public var extraAttributes: [(String, String)]
    /// Instrumentation scope name and version. Default "runway" and the service version.
    public var scopeName: String
    public var scopeVersion: String

    public init(
        serviceName: String = "runway",
        serviceVersion: String,
        instanceID: String,
        environment: String = "",
        extraAttributes: [(String, String)] = [],
        scopeName: String = "runway",
        scopeVersion: String? = nil
    ) {
        self.serviceName = serviceName
        self.serviceVersion = serviceVersion
        self.instanceID = instanceID
        self.environment = environment
        self.extraAttributes = extraAttributes
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion ?? serviceVersion
    }

    /// The resource attributes in the order they are written; empty values left out.
    public var attributes: [(String, String)] {
        ([
            ("service.name", serviceName), ("service.version", serviceVersion), ("service.instance.id", instanceID),
            ("deployment.environment", environment),
        ] + extraAttributes).filter { !$0.1.isEmpty }
    }

    public static func == (lhs: TempoResource, rhs: TempoResource) -> Bool {
        lhs.attributes.elementsEqual(rhs.attributes) { $0 == $1 } && lhs.scopeName == rhs.scopeName
            && lhs.scopeVersion == rhs.scopeVersion
    }
}
