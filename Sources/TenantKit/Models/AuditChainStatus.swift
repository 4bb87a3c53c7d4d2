import Foundation

/// The result of checking an organization's hash chain.
public enum AuditChainStatus: Codable, Sendable, Equatable {
    /// Every entry verifies, and so does the checkpoint verified against (if any).
    case intact(entries: Int64)
    /// The first entry whose sequence number, link or hash does not check out (after the
    /// checkpoint's seq, when verifying against one).
    case brokenAt(seq: Int64)
    /// History up to a checkpoint was changed: `seq` is the first entry at or before the
    /// checkpoint's seq that is missing or does not verify, or the checkpoint's own seq when the
    /// chain was re-chained consistently (with the key) but its head there is not the checkpoint's.
    case rewritten(at: Int64)
    /// The chain verifies but ends before the checkpoint: entries after `found` were deleted.
    case truncated(expected: Int64, found: Int64)
    /// The checkpoint's signature does not verify with this database's audit key: it was altered,
    /// or another database made it. Nothing was checked against it.
    case invalidCheckpoint
}
