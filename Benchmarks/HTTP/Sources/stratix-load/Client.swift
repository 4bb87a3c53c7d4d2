import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One request, answered: the status and the body.
func send(_ request: WrkRequest, port: Int) async throws -> (status: Int, body: Data) {
    var urlRequest = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(request.path)")!)
    urlRequest.httpMethod = request.method
    for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
    urlRequest.httpBody = request.body.map { Data($0.utf8) }
    let (body, response) = try await URLSession.shared.data(for: urlRequest)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
}

/// Polls `/health` on each port until it answers (servers start in the background).
func waitUntilServing(ports: [Int]) async throws {
    for port in ports {
        var attempts = 0
        while (try? await send(WrkRequest(path: "/health"), port: port))?.status != 200 {
            attempts += 1
            guard attempts < 100 else { throw LoadError("nothing answers on port \(port)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Both servers must give the same answer to every request measured, or the comparison says
/// nothing: same status, and the same body (for a run, once its new id, times and the balance
/// after the debit are set aside).
func checkSameAnswers(_ cells: [LoadCell], tenantKitPort: Int, baselinePort: Int) async throws {
    for cell in cells {
        let tenantKit = try await send(cell.request, port: tenantKitPort)
        let baseline = try await send(cell.request, port: baselinePort)
        guard (200..<300).contains(tenantKit.status), tenantKit.status == baseline.status else {
            throw LoadError("\(cell.name): TenantKit answered \(tenantKit.status), the baseline \(baseline.status): "
                + String(decoding: tenantKit.body, as: UTF8.self) + " / " + String(decoding: baseline.body, as: UTF8.self))
        }
        // A read must answer byte for byte alike; a run differs in its new id, times and balance.
        let alike = cell.request.method == "GET" ? tenantKit.body == baseline.body : try comparable(tenantKit.body) == comparable(baseline.body)
        guard alike else {
            throw LoadError("\(cell.name): the answers differ:\nTenantKit: \(String(decoding: tenantKit.body, as: UTF8.self))\nbaseline:  \(String(decoding: baseline.body, as: UTF8.self))")
        }
    }
}

/// The body with per-call values replaced, keys sorted; plain text as is.
private func comparable(_ body: Data) throws -> String {
    guard let json = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
        return String(decoding: body, as: UTF8.self)
    }
    let perCall: Set<String> = ["id", "createdAt", "updatedAt", "startedAt", "finishedAt", "balance"]
    func strip(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return Dictionary(uniqueKeysWithValues: object.map { key, value in (key, perCall.contains(key) ? "*" : strip(value)) })
        }
        if let array = value as? [Any] { return array.map(strip) }
        return value
    }
    let data = try JSONSerialization.data(withJSONObject: strip(json), options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}
