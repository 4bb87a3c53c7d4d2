import Foundation

// tenantkit-bench: see Benchmarks/README.md, or run with --help.

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandleStderr.write("\(error)\n")
    exit(2)
}

let available: [Int: any Workload] = [
    1: PointReadWorkload(),
    2: ConcurrentPointReadWorkload(),
    3: CatalogPageWorkload(),
    4: StartRunWorkload(concurrency: options.concurrency),
    5: BulkInsertWorkload(rows: options.insertRows),
    6: DecodeWorkload(rows: options.decodeRows),
    7: OrgSwitchWorkload(),
    8: APIKeyRequestWorkload(),
]
for number in options.workloads where available[number] == nil {
    FileHandleStderr.write("workload \(number) is not implemented yet\n")
}

let env: BenchEnvironment
do {
    env = try await BenchEnvironment.start(options)
} catch {
    FileHandleStderr.write("cannot start PostgreSQL: \(error)\n")
    exit(1)
}

var results: [WorkloadResult] = []
var failed = false
for number in options.workloads {
    guard let workload = available[number] else { continue }
    progress("workload \(number): \(workload.title)")
    do {
        results.append(try await measure(workload, env: env, scale: options.scale, rounds: options.rounds))
    } catch {
        FileHandleStderr.write("workload \(number) failed: \(error)\n")
        failed = true
    }
}

var soakResult: BenchReport.Soak?
if options.soakSeconds > 0 {
    progress("soak: workload 2's scoped read for \(options.soakSeconds) s")
    do {
        soakResult = try await soak(seconds: options.soakSeconds, env: env)
    } catch {
        FileHandleStderr.write("soak failed: \(error)\n")
        failed = true
    }
}

let formatter = ISO8601DateFormatter()
let report = BenchReport(
    date: formatter.string(from: Date()),
    machine: BenchReport.machine(),
    postgres: env.serverVersion.split(separator: " ").prefix(2).joined(separator: " "),
    server: env.server == nil ? "DATABASE_URL" : "throwaway server started by the benchmark (fsync off), unix socket",
    command: (["tenantkit-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
    options: [
        "scale": String(options.scale), "rounds": options.rounds.map(String.init) ?? "per workload",
        "orgs": String(options.orgs), "smallOrgs": String(options.smallOrgs), "itemsPerOrg": String(options.itemsPerOrg),
        "publicItems": String(options.publicItems), "runsPerOrg": String(options.runsPerOrg),
        "insertRows": String(options.insertRows), "decodeRows": String(options.decodeRows), "concurrency": String(options.concurrency),
    ],
    loadSeconds: env.loadSeconds,
    peakResidentBytes: peakResidentBytes(),
    workloads: results,
    soak: soakResult)
await env.shutdown()

print(report.text())
do {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let path = options.resultsPath
    try encoder.encode(report).write(to: URL(fileURLWithPath: path + ".tmp"))
    _ = rename(path + ".tmp", path)
    progress("wrote \(path)")
} catch {
    FileHandleStderr.write("cannot write \(options.resultsPath): \(error)\n")
    failed = true
}
exit(failed ? 1 : 0)
