import Foundation

/// One wrk run against one server: requests per second, and the latency percentiles wrk reports.
struct WrkResult: Codable, Sendable {
    var requestsPerSecond: Double
    var latencyP50Milliseconds: Double
    var latencyP99Milliseconds: Double
    var requests: Int
}

/// A request shape wrk repeats: the method, path, headers and body.
struct WrkRequest: Sendable {
    var method = "GET"
    var path: String
    var headers: [String: String] = [:]
    var body: String?

    /// wrk's Lua script for this request (wrk's command line cannot send a body).
    var script: String {
        var lines = ["wrk.method = \(luaString(method))"]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { lines.append("wrk.headers[\(luaString(name))] = \(luaString(value))") }
        if let body { lines.append("wrk.body = \(luaString(body))") }
        // A non-2xx answer (a 402 once credits ran out, say) would be counted as fast work: stop instead.
        lines.append("""
            response = function(status, headers, body)
              if status >= 300 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\\n"); os.exit(3) end
            end
            """)
        return lines.joined(separator: "\n") + "\n"
    }

    private func luaString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Runs wrk (`apt-get install wrk`) and reads its summary.
enum Wrk {
    static func run(_ request: WrkRequest, port: Int, connections: Int, threads: Int, seconds: Int) throws -> WrkResult {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("stratix-load-\(UUID().uuidString).lua")
        try request.script.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let output = try launch(["wrk", "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script.path,
                                 "http://127.0.0.1:\(port)\(request.path)"])
        return try parse(output)
    }

    static func launch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw LoadError("could not start wrk (\(error)); install it: apt-get install wrk")
        }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LoadError("wrk failed (status \(process.terminationStatus)): \(errors.isEmpty ? output : errors)")
        }
        return output
    }

    /// Reads `Requests/sec:`, the 50% and 99% latency lines and the request count.
    static func parse(_ output: String) throws -> WrkResult {
        func value(after label: String) -> String? {
            output.split(separator: "\n").lazy
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.hasPrefix(label) }
                .map { String($0.dropFirst(label.count)).trimmingCharacters(in: .whitespaces) }
        }
        guard !output.contains("Non-2xx"), !output.contains("Socket errors") else { throw LoadError("wrk saw failed requests:\n\(output)") }
        guard let rps = value(after: "Requests/sec:").flatMap(Double.init),
              let p50 = value(after: "50%").flatMap(milliseconds), let p99 = value(after: "99%").flatMap(milliseconds),
              let total = output.split(separator: "\n").first(where: { $0.contains("requests in") })?
                .trimmingCharacters(in: .whitespaces).split(separator: " ").first.flatMap({ Int($0) }) else {
            throw LoadError("could not read wrk's output:\n\(output)")
        }
        return WrkResult(requestsPerSecond: rps, latencyP50Milliseconds: p50, latencyP99Milliseconds: p99, requests: total)
    }

    /// wrk's `1.23ms`, `456.78us`, `1.02s` as milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }
}
