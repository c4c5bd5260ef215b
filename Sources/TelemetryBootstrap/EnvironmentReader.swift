/// Reads settings from environment variables, refusing values it cannot use with a message that
/// names the variable. An empty variable counts as unset.
package struct EnvironmentReader: Sendable {
    package let variables: [String: String]

    package init(_ variables: [String: String]) { self.variables = variables }

    package func string(_ name: String) -> String? {
        guard let raw = variables[name], !raw.isEmpty else { return nil }
        return raw
    }

    package func integer(_ name: String, in range: ClosedRange<Int>) throws(SettingError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let number = Int(raw), range.contains(number) else {
            throw SettingError("\(name)=\(raw) is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    package func number(_ name: String, in range: ClosedRange<Double>) throws(SettingError) -> Double? {
        guard let raw = string(name) else { return nil }
        guard let number = Double(raw), range.contains(number) else {
            throw SettingError("\(name)=\(raw) is not a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    package func flag(_ name: String) throws(SettingError) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingError("\(name)=\(raw) is not one of 1, 0, true, false")
        }
    }

    /// One of `choices`, compared without case.
    package func choice<Value>(_ name: String, _ choices: [String: Value]) throws(SettingError) -> Value? {
        guard let raw = string(name) else { return nil }
        guard let value = choices[raw.lowercased()] else {
            throw SettingError("\(name)=\(raw) is not one of \(choices.keys.sorted().joined(separator: ", "))")
        }
        return value
    }

    /// An `http` or `https` base URL with a host.
    package func baseURL(_ name: String, example: String) throws(SettingError) -> String? {
        guard let raw = string(name) else { return nil }
        let scheme = raw.prefix { $0 != ":" }.lowercased()
        let rest = raw.drop { $0 != ":" }
        guard scheme == "http" || scheme == "https", rest.hasPrefix("://"), rest.dropFirst(3).first.map({ $0 != "/" }) == true else {
            throw SettingError("\(name)=\(raw) is not an http(s) base URL such as \(example)")
        }
        return raw
    }
}

/// A setting whose value could not be used; the CLI prints it and exits non-zero.
package struct SettingError: Error, CustomStringConvertible, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
