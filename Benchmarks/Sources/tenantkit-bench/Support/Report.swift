import Foundation

/// Everything results.json holds.
struct BenchReport: Codable {
    var date: String
    var machine: Machine
    var postgres: String
    var server: String
    var command: String
    var options: [String: String]
    var loadSeconds: [String: Double]
    var peakResidentBytes: Int
    var workloads: [WorkloadResult]
    /// The workload-2 soak, when one ran (`--soak`).
    var soak: Soak?

    /// Resident memory while workload 2's scoped read runs for a while: flat means nothing leaks per read.
    struct Soak: Codable {
        var seconds: Double
        var reads: Int
        /// Seconds since the start, resident MiB.
        var samples: [[Double]]
        var firstMiB: Double
        var lastMiB: Double
        var maxMiB: Double

        init(seconds: Double, reads: Int, samples: [[Double]]) {
            self.seconds = seconds
            self.reads = reads
            self.samples = samples
            firstMiB = samples.first?[1] ?? 0
            lastMiB = samples.last?[1] ?? 0
            maxMiB = samples.map { $0[1] }.max() ?? 0
        }
    }

    struct Machine: Codable {
        var nproc: Int
        var cpu: String
        var kernel: String
        var memoryGiB: Double
    }

    static func machine() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(nproc: ProcessInfo.processInfo.activeProcessorCount, cpu: cpu, kernel: release,
                       memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10)
    }

    /// The human-readable table.
    func text() -> String {
        var out = "TenantKit benchmarks, \(date)\n"
        out += "machine: \(machine.nproc) cores (\(machine.cpu)), Linux \(machine.kernel), \(machine.memoryGiB) GiB\n"
        out += "server: \(postgres) (\(server))\n"
        out += "peak memory of the benchmark process: \(String(format: "%.1f", Double(peakResidentBytes) / 1_048_576)) MiB\n"
        if let soak {
            out += String(
                format: "soak: workload 2 scoped read for %.0f s, %d reads; resident %.1f MiB after the first round, %.1f MiB at the end, %.1f MiB at most\n",
                soak.seconds, soak.reads, soak.firstMiB, soak.lastMiB, soak.maxMiB)
        }
        for (name, seconds) in loadSeconds.sorted(by: { $0.key < $1.key }) {
            out += "load \(name): \(String(format: "%.1f", seconds)) s\n"
        }
        for workload in workloads {
            out += "\n## Workload \(workload.number): \(workload.title)\n"
            out += "\(workload.roundsPerContender) interleaved rounds x \(workload.opsPerRound) ops per contender, \(String(format: "%.0f", workload.seconds)) s\n"
            let reference = workload.contenders.first { $0.isTenantKit }
            let width = max(40, workload.contenders.map(\.name.count).max() ?? 0)
            out += pad("contender", width) + lpad("median", 11) + lpad("p99", 11) + lpad("ops/s", 11)
            out += lpad("rows/s", 11) + lpad("allocs/op", 11) + lpad("TK/this", 9) + "\n"
            for c in workload.contenders {
                var line = pad(c.name, width) + lpad(duration(c.medianMicros), 11) + lpad(duration(c.p99Micros), 11)
                line += lpad(String(format: "%.0f", c.opsPerSecond), 11)
                line += lpad(c.unitsPerOp > 1 ? String(format: "%.0f", c.unitsPerSecond) : "", 11)
                line += lpad(c.allocationsPerOp.map { String(format: "%.0f", $0) } ?? "-", 11)
                if let reference, reference.name != c.name, c.opsPerSecond > 0 {
                    line += lpad(String(format: "%.2f", reference.opsPerSecond / c.opsPerSecond), 9)
                } else {
                    line += lpad("", 9)
                }
                out += line + "\n"
            }
            for t in workload.targets {
                let ratio = t.ratio.map { String(format: "%.2f", $0) } ?? "n/a"
                let verdict = t.met.map { $0 ? "met" : "MISSED" } ?? "not measured"
                out += "target: \(t.label): \(ratio) (need >= \(String(format: "%.2f", t.minRatio))) \(verdict)\n"
            }
            for (key, value) in workload.extras.sorted(by: { $0.key < $1.key }) {
                out += "  \(key): \(value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.2f", value))\n"
            }
        }
        return out
    }

    private func duration(_ micros: Double) -> String {
        micros >= 10_000 ? String(format: "%.1f ms", micros / 1000) : String(format: "%.1f us", micros)
    }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    private func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
