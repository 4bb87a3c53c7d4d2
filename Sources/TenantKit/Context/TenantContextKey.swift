import Foundation
import TenantKitPostgres

/// The key the application signs its tenant context with (HMAC-SHA256).
///
/// The database verifies every claim with the same key, stored where only `tenantkit_owner` can
/// read it (`tenantkit.context_keys`), so SQL running as the application role cannot sign a claim
/// for another principal or organization. Keep it out of the database URL: load it from the
/// environment or a file, and install it once per database with ``install(on:)``.
///
/// ```swift
/// let key = try TenantContextKey.fromEnvironment()   // TENANTKIT_CONTEXT_KEY or TENANTKIT_CONTEXT_KEY_FILE
/// try await key.install(on: migratorConnection)      // as a member of tenantkit_owner
/// let store = TenantStore(pool: appPool, key: key)
/// ```
public struct TenantContextKey: Sendable, CustomStringConvertible {
    /// The key's id: the first 8 hex digits of its SHA-256, named in every claim.
    public let id: String
    /// SHA-256 states after HMAC's inner and outer pad blocks: each MAC starts from them.
    private let innerState: SHA256.State
    private let outerState: SHA256.State
    private let secret: [UInt8]

    /// A key from at least 32 secret bytes.
    public init(secret: some Collection<UInt8>) throws {
        let bytes = Array(secret)
        guard bytes.count >= 32 else {
            throw TenantError.invalidInput("a context key needs at least 32 bytes, got \(bytes.count)")
        }
        var block = bytes.count > 64 ? SHA256.digest(bytes) : bytes
        block += [UInt8](repeating: 0, count: 64 - block.count)
        self.secret = bytes
        self.innerState = Self.state(afterPad: block.map { $0 ^ 0x36 })
        self.outerState = Self.state(afterPad: block.map { $0 ^ 0x5c })
        self.id = String(hexString(SHA256.digest(bytes)).prefix(8))
    }

    /// A new random key of 32 bytes from the system's CSPRNG.
    public static func generate() -> TenantContextKey {
        var generator = SystemRandomNumberGenerator()
        // 32 bytes is the documented minimum, so this cannot throw.
        return try! TenantContextKey(secret: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The key from `TENANTKIT_CONTEXT_KEY` (hex digits) or the file named by
    /// `TENANTKIT_CONTEXT_KEY_FILE` (hex digits, surrounding white space ignored).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TenantContextKey {
        let text: String
        if let value = environment["TENANTKIT_CONTEXT_KEY"], !value.isEmpty {
            text = value
        } else if let path = environment["TENANTKIT_CONTEXT_KEY_FILE"], !path.isEmpty {
            guard let contents = FileManager.default.contents(atPath: path), let string = String(data: contents, encoding: .utf8) else {
                throw TenantError.invalidInput("TENANTKIT_CONTEXT_KEY_FILE names \(path), which cannot be read")
            }
            text = string
        } else {
            throw TenantError.invalidInput(
                "no context key: set TENANTKIT_CONTEXT_KEY (64 or more hex digits) or TENANTKIT_CONTEXT_KEY_FILE; `tenantkit keys generate` makes one")
        }
        return try TenantContextKey(hex: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A key from hex digits (64 or more).
    public init(hex: String) throws {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0, let bytes = Self.bytes(fromHex: digits) else {
            throw TenantError.invalidInput("a context key must be hex digits (0-9, a-f), an even number of them")
        }
        try self.init(secret: bytes)
    }

    /// The secret as hex digits, for storing it where the application reads its configuration.
    public var hexSecret: String { hexString(secret) }

    /// Only the id: the secret is never printed.
    public var description: String { "TenantContextKey(\(id))" }

    /// Stores the key in the database for verification (as a member of `tenantkit_owner`, e.g. the
    /// migration role). Installing the same key again does nothing.
    public func install(on executor: some PostgresExecutor) async throws {
        let installed = try await executor.fetchOne("SELECT tenantkit.install_context_key(\(Data(secret)))", as: String.self)
        guard installed == id else {
            throw TenantError.invalidInput("the database stored context key \(installed), expected \(id): are Schema/0012 and TenantKit of the same version?")
        }
    }

    /// HMAC-SHA256 of `message` as lowercase hex.
    func mac(_ message: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: 64) { out in
            message.withUnsafeBytes { writeMAC(of: $0, into: out) }
            return 64
        }
    }

    /// Writes the HMAC-SHA256 of `message` as 64 lowercase hex digits to the start of `out`.
    func writeMAC(of message: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 4) { scratch in
            let inner = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<32])
            let mac = UnsafeMutableRawBufferPointer(rebasing: scratch[32..<64])
            innerState.finish(afterBytes: 64, message: message, into: inner)
            outerState.finish(afterBytes: 64, message: UnsafeRawBufferPointer(inner), into: mac)
            var writer = HexWriter(out)
            writer.hex(UnsafeRawBufferPointer(mac))
        }
    }

    private static func state(afterPad pad: [UInt8]) -> SHA256.State {
        var state = SHA256.State()
        pad.withUnsafeBytes { state.compress($0) }
        return state
    }

    /// Signs a proof for an entry point that takes one (`tenantkit_verify_email`: purpose `email`,
    /// subject `<user id>:<email>`; `tenantkit_verify_org_domain`: purpose `domain`, subject
    /// `<org id>:<domain>:<challenge>`), valid for `lifetime`. Sign only what the application has
    /// checked itself: a proof is what SQL running as the application role cannot make.
    public func proof(purpose: String, subject: String, validFor lifetime: Duration = .seconds(300), now: Date = Date()) -> String {
        let head = id + Self.hex(UInt64(now.timeIntervalSince1970) + UInt64(lifetime.components.seconds), width: 10)
        return head + mac(Array("proof.\(purpose).\(subject).\(head)".utf8))
    }

    static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func bytes(fromHex digits: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
