import TelemetryBootstrap

/// The one reader of environment variables: every setting of every module is read through it,
/// by ``RunwayConfiguration/apply(environment:)``, with one set of rules. An empty variable counts
/// as unset; a value it cannot use is refused with a ``ConfigurationError`` worded
/// `NAME=value: expected …`.
///
/// It remembers every name it was asked for, so a test can check that each variable read is
/// declared in ``RunwayConfiguration/variables`` (and so documented in the README).
final class Environment {
    let variables: [String: String]
    /// Every variable name this reader was asked for so far.
    private(set) var namesRead: Set<String> = []

    init(_ variables: [String: String]) { self.variables = variables }

    func string(_ name: String) -> String? {
        namesRead.insert(name)
        guard let raw = variables[name], !raw.isEmpty else { return nil }
        return raw
    }

    /// A whole number in `range`.
    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let number = Int(raw), range.contains(number) else { throw Self.refusal(name, raw, "a whole number in \(range)") }
        return number
    }

    /// A whole number of milliseconds in `range`.
    func milliseconds(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Duration? {
        try integer(name, in: range).map { .milliseconds($0) }
    }

    /// A number in `range`.
    func number(_ name: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let raw = string(name) else { return nil }
        guard let number = Double(raw), range.contains(number) else { throw Self.refusal(name, raw, "a number in \(range)") }
        return number
    }

    /// `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, in any case.
    func flag(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw Self.refusal(name, raw, "1, 0, true, false, yes, no, on or off")
        }
    }

    /// One of `choices`, compared without case.
    func choice<Value>(_ name: String, _ choices: [String: Value]) throws(ConfigurationError) -> Value? {
        guard let raw = string(name) else { return nil }
        guard let value = choices[raw.lowercased()] else {
            throw Self.refusal(name, raw, "one of \(choices.keys.sorted().joined(separator: ", "))")
        }
        return value
    }

    /// An `http` or `https` base URL with a host.
    func baseURL(_ name: String, example: String) throws(ConfigurationError) -> String? {
        guard let raw = string(name) else { return nil }
        let scheme = raw.prefix { $0 != ":" }.lowercased()
        let rest = raw.drop { $0 != ":" }
        guard scheme == "http" || scheme == "https", rest.hasPrefix("://"), rest.dropFirst(3).first.map({ $0 != "/" }) == true else {
            throw Self.refusal(name, raw, "an http(s) base URL such as \(example)")
        }
        return raw
    }

    /// The one wording of a value that cannot be used: `NAME=value: expected …`.
    static func refusal(_ name: String, _ raw: String, _ expected: String) -> ConfigurationError {
        ConfigurationError(description: "\(name)=\(raw): expected \(expected)")
    }
}

/// A setting whose value could not be used, for every file of the app (the telemetry bootstrap,
/// which refuses label values too, defines it).
typealias ConfigurationError = TelemetryBootstrap.ConfigurationError

extension ConfigurationError {
    init(description: String) { self.init(description) }
}
