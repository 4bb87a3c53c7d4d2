/// What a ``InjectionStep/swift(_:typed:_:)`` step or a victim check found that no scan could:
/// a victim blocked, a backend killed, a key that authenticated into the wrong org.
public struct InjectionBreach: Error, Sendable, CustomStringConvertible {
    /// What happened, for the report.
    public let description: String
    /// A breach described by `description`.
    public init(_ description: String) { self.description = description }
}
