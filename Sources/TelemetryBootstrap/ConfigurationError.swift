/// A setting whose value could not be used, worded `NAME=value: expected …` when it comes from the
/// environment; the CLI prints it and exits non-zero.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
