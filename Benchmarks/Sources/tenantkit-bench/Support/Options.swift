import Foundation

/// Command-line options. `--help` prints them.
struct Options: Sendable {
    var workloads: [Int] = [1, 2, 3, 4, 5, 6, 7, 8]
    /// Seconds of the workload-2 soak (0: none).
    var soakSeconds = 0
    /// Multiplies every workload's operations per round (0.1 for a quick look).
    var scale = 1.0
    /// Rounds per contender; nil means each workload's default.
    var rounds: Int?
    /// Organizations and private catalog items per organization in the large database (workload 3's
    /// "10,000 orgs / 1,000,000 items"); the small database has `smallOrgs` with the same per-org size.
    var orgs = 10_000
    var smallOrgs = 100
    var itemsPerOrg = 100
    var publicItems = 1_000
    var runsPerOrg = 10
    /// Rows inserted per operation (workload 5) and decoded per operation (workload 6).
    var insertRows = 10_000
    var decodeRows = 10_000
    /// Concurrent tasks / clients (workloads 2 and 4).
    var concurrency = 8
    var resultsPath = "Benchmarks/results.json"
    var skipPgbench = false
    var skipNIO = false
    /// With DATABASE_URL: leave the loaded databases on the server afterwards (profiling with psql).
    var keepDatabases = false
    /// Only contenders whose name contains one of these (for profiling one code path).
    var contenderFilter: [String] = []

    static let usage = """
        usage: tenantkit-bench [options]

        Starts a throwaway PostgreSQL (or uses DATABASE_URL, whose role must be a superuser), loads
        the data, runs the workloads with TenantKit and its baselines interleaved, prints a table and
        writes results.json.

          --workloads 1,...,8       workloads to run (default: all)
          --quick                   small data and short rounds (--scale 0.1 --orgs 1000 ...)
          --scale F                 multiply operations per round by F (default 1)
          --rounds N                rounds per contender (default: per workload, 5)
          --orgs N                  organizations in the large database (default 10000)
          --small-orgs N            organizations in the small database (default 100)
          --items-per-org N         private catalog items per organization (default 100)
          --public-items N          public catalog items (default 1000)
          --insert-rows N           rows per bulk insert, workload 5 (default 10000)
          --decode-rows N           rows per decode, workload 6 (default 10000)
          --concurrency N           tasks / pgbench clients, workloads 2 and 4 (default 8)
          --soak SECONDS            then run workload 2's scoped read for SECONDS, sampling RSS
          --results PATH            where to write the JSON (default Benchmarks/results.json)
          --no-pgbench, --no-nio    leave out those baselines
          --only TEXT[,TEXT]        only contenders whose name contains TEXT (profiling; no ratios)
          --keep-databases          with DATABASE_URL, leave the loaded databases there (profiling)
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw OptionError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        func int() throws -> Int {
            let text = try value()
            guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else {
                throw OptionError("\(arguments[i - 1]) needs a positive integer, not \(text)")
            }
            return n
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--workloads":
                let list = try value().split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !list.isEmpty else { throw OptionError("--workloads needs numbers such as 1,3") }
                options.workloads = list
            case "--quick":
                options.scale = 0.1
                options.rounds = 3
                options.orgs = 1_000
                options.smallOrgs = 10
                options.insertRows = 2_000
                options.decodeRows = 2_000
            case "--scale":
                guard let f = Double(try value()), f > 0 else { throw OptionError("--scale needs a positive number") }
                options.scale = f
            case "--rounds": options.rounds = try int()
            case "--soak": options.soakSeconds = try int()
            case "--orgs": options.orgs = try int()
            case "--small-orgs": options.smallOrgs = try int()
            case "--items-per-org": options.itemsPerOrg = try int()
            case "--public-items": options.publicItems = try int()
            case "--insert-rows": options.insertRows = try int()
            case "--decode-rows": options.decodeRows = try int()
            case "--concurrency": options.concurrency = try int()
            case "--results": options.resultsPath = try value()
            case "--no-pgbench": options.skipPgbench = true
            case "--no-nio": options.skipNIO = true
            case "--keep-databases": options.keepDatabases = true
            case "--only": options.contenderFilter = try value().split(separator: ",").map(String.init)
            case "--help", "-h":
                print(usage)
                exit(0)
            default:
                throw OptionError("unknown option \(arguments[i])\n\n\(usage)")
            }
            i += 1
        }
        return options
    }
}

struct OptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
