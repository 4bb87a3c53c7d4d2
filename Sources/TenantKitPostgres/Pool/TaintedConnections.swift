/// What a pool does with a connection that ran dynamic SQL text or a script
/// (``PostgresConnection/isTainted``) when it comes back.
public enum TaintedConnections: Sendable, Equatable {
    /// `DISCARD ALL` and a cleared statement cache, then the connection is leased again.
    case reset
    /// The connection is closed and a new one opened when needed. For a Citus coordinator, whose
    /// connections to the workers keep their sessions through a `DISCARD ALL` and end only with
    /// the coordinator's backend.
    case close
}
