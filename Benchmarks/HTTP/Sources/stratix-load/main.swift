// The HTTP load comparison of issue 12: the Stratix example service (TenantKit +
// TenantKitHummingbird) against the same handlers on Hummingbird + postgres-nio, same database,
// same statements, same JSON encoder, driven by wrk on localhost. Rounds interleave the two
// servers (ABBA) and the report quotes medians and their ratio. See Benchmarks/HTTP/README.md.
//
//     swift run -c release --package-path Benchmarks/HTTP stratix-load [--rounds 5] [--seconds 5]
import Foundation
import Hummingbird
import ServiceLifecycle
import Logging

struct LoadOptions {
    var rounds = 5
    var seconds = 5
    var connections = 16
    var threads = 1
    var poolSize = 8
    var showSQL = false
    var only: String?
    var results = "Benchmarks/HTTP/results.json"

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        func number(_ flag: String) throws -> Int {
            guard let text = rest.popFirst(), let value = Int(text), value > 0 else { throw LoadError("\(flag) takes a positive number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--rounds": rounds = try number(flag)
            case "--seconds": seconds = try number(flag)
            case "--connections": connections = try number(flag)
            case "--threads": threads = try number(flag)
            case "--pool": poolSize = try number(flag)
            case "--show-sql": showSQL = true
            case "--only": only = rest.popFirst()
            case "--results":
                guard let path = rest.popFirst() else { throw LoadError("--results takes a path") }
                results = path
            default:
                throw LoadError("unknown option \(flag); options: --rounds N --seconds N --connections N --threads N --pool N --only TEXT --results PATH --show-sql")
            }
        }
    }
}

/// A request both servers answer, measured side by side.
struct LoadCell {
    let name: String
    let request: WrkRequest
}

struct CellReport: Codable {
    let name: String
    let method: String
    let path: String
    let tenantKit: [WrkResult]
    let baseline: [WrkResult]
    let tenantKitMedianRPS: Double
    let baselineMedianRPS: Double
    /// TenantKit's median requests per second over the baseline's.
    let ratio: Double
}

struct LoadReport: Codable {
    let date: String
    let command: String
    let processors: Int
    let rounds: Int
    let secondsPerRun: Int
    let connections: Int
    let wrkThreads: Int
    let poolSize: Int
    let cells: [CellReport]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let tenantKitPort = 8181, baselinePort = 8182

func cells(_ fixture: LoadFixture, cookieName: String) -> [LoadCell] {
    let cookie = ["Cookie": "\(cookieName)=\(fixture.sessionToken)"]
    let bearer = ["Authorization": "Bearer \(fixture.apiKey)"]
    let run = "{\"itemID\":\"\(fixture.itemID.uuidString.lowercased())\",\"cost\":1}"
    return [
        LoadCell(name: "GET /catalog as a user", request: WrkRequest(path: "/catalog", headers: cookie)),
        LoadCell(name: "GET /catalog as an API key", request: WrkRequest(path: "/catalog", headers: bearer)),
        LoadCell(name: "GET /catalog without encoding, as a user (database part)", request: WrkRequest(path: LoadRoute.catalogWithoutEncoding, headers: cookie)),
        LoadCell(name: "GET /catalog without encoding, as an API key (database part)", request: WrkRequest(path: LoadRoute.catalogWithoutEncoding, headers: bearer)),
        LoadCell(name: "POST /runs as a user", request: WrkRequest(
            method: "POST", path: "/runs", headers: cookie.merging(["Content-Type": "application/json"]) { a, _ in a }, body: run)),
    ]
}

let options: LoadOptions, world: LoadWorld
do {
    options = try LoadOptions(CommandLine.arguments)
    LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
    print("Starting a throwaway PostgreSQL and seeding one organization...")
    world = try await LoadWorld.start(poolSize: options.poolSize)
} catch {
    print("stratix-load: \(error)")
    exit(1)
}
let baseline = BaselineServer(fixture: world.fixture, poolSize: options.poolSize)
let services = ServiceGroup(configuration: .init(
    services: [.init(service: world.tenantKitApplication(port: tenantKitPort)),
               .init(service: baseline.application(port: baselinePort)),
               .init(service: baseline)],
    logger: Logger(label: "stratix-load")))
let serving = Task { try await services.run() }

do {
    try await waitUntilServing(ports: [tenantKitPort, baselinePort])
    let all = cells(world.fixture, cookieName: world.sessionCookieName)
    let chosen = options.only.map { text in all.filter { $0.name.localizedCaseInsensitiveContains(text) } } ?? all
    if options.showSQL {
        try await world.logStatements(true)
        for cell in chosen {
            for (side, port) in [("TenantKit", tenantKitPort), ("baseline", baselinePort)] {
                try await world.markLog()
                let answer = try await send(cell.request, port: port)
                try await Task.sleep(for: .milliseconds(300))
                print("--- \(cell.name), \(side) (\(answer.status)):")
                print(try await world.statementsSinceMark())
            }
        }
        try await world.logStatements(false)
    } else {
        try await checkSameAnswers(chosen, tenantKitPort: tenantKitPort, baselinePort: baselinePort)
        print("Both servers answer alike (bodies compared, ids and times aside).")

        var reports: [CellReport] = []
        for cell in chosen {
            // Warm both (connections opened, statements prepared, caches filled) before measuring.
            _ = try Wrk.run(cell.request, port: tenantKitPort, connections: options.connections, threads: options.threads, seconds: 2)
            _ = try Wrk.run(cell.request, port: baselinePort, connections: options.connections, threads: options.threads, seconds: 2)
            var tenantKit: [WrkResult] = [], base: [WrkResult] = []
            for round in 0..<options.rounds {
                // ABBA: neither side always runs first (on a warmer or a more loaded machine).
                let order = round % 2 == 0 ? [true, false] : [false, true]
                for isTenantKit in order {
                    let result = try Wrk.run(cell.request, port: isTenantKit ? tenantKitPort : baselinePort,
                                             connections: options.connections, threads: options.threads, seconds: options.seconds)
                    if isTenantKit { tenantKit.append(result) } else { base.append(result) }
                }
            }
            let tk = median(tenantKit.map(\.requestsPerSecond)), bl = median(base.map(\.requestsPerSecond))
            reports.append(CellReport(name: cell.name, method: cell.request.method, path: cell.request.path, tenantKit: tenantKit, baseline: base,
                                      tenantKitMedianRPS: tk, baselineMedianRPS: bl, ratio: tk / bl))
            let name = cell.name.padding(toLength: 62, withPad: " ", startingAt: 0)
            print(name + String(format: " TenantKit %6.0f req/s   baseline %6.0f req/s   ratio %.2fx", tk, bl, tk / bl))
        }
        let report = LoadReport(
            date: ISO8601DateFormatter().string(from: Date()), command: CommandLine.arguments.dropFirst().joined(separator: " "),
            processors: ProcessInfo.processInfo.activeProcessorCount, rounds: options.rounds, secondsPerRun: options.seconds,
            connections: options.connections, wrkThreads: options.threads, poolSize: options.poolSize, cells: reports)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: options.results))
        print("Wrote \(options.results)")
    }
} catch {
    print("stratix-load: \(error)")
    await services.triggerGracefulShutdown()
    _ = await serving.result
    await world.stop()
    exit(1)
}
await services.triggerGracefulShutdown()
_ = await serving.result
await world.stop()
