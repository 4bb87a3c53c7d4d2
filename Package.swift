// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TenantKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TenantKitPostgres", targets: ["TenantKitPostgres"]),
        .library(name: "TenantSQL", targets: ["TenantSQL"]),
        .library(name: "TenantKitMigrations", targets: ["TenantKitMigrations"]),
        .library(name: "TenantKitDoctor", targets: ["TenantKitDoctor"]),
        .library(name: "TenantKit", targets: ["TenantKit"]),
        .library(name: "TenantKitTesting", targets: ["TenantKitTesting"]),
        .library(name: "TenantKitEmbeddedPostgres", targets: ["TenantKitEmbeddedPostgres"]),
        .executable(name: "tenantkit", targets: ["tenantkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // A command plugin (`swift package generate-documentation`); `swift build` compiles its plugins but no library.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "TenantKitPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(name: "TenantSQL", dependencies: ["TenantKitPostgres", .product(name: "Logging", package: "swift-log")]),
        .target(name: "TenantKitMigrations", dependencies: ["TenantKitPostgres"]),
        // The isolation linter: checks a live database against TenantKit's rules (and pending migrations).
        .target(name: "TenantKitDoctor", dependencies: ["TenantKitPostgres", "TenantKitMigrations"]),
        .target(name: "TenantKit", dependencies: ["TenantSQL", "TenantKitPostgres", "TenantKitMigrations"], resources: [.copy("Schema")]),
        // A throwaway PostgreSQL server: shared by the CLI (`db start`, `demo`) and the test support.
        .target(name: "TenantKitEmbeddedPostgres", dependencies: ["TenantKitPostgres"]),
        .target(
            name: "TenantKitTesting",
            dependencies: [
                "TenantKitPostgres", "TenantKitMigrations", "TenantKitDoctor", "TenantSQL", "TenantKit", "TenantKitEmbeddedPostgres",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tenantkit",
            dependencies: [
                "TenantKitPostgres", "TenantKitMigrations", "TenantKitDoctor", "TenantKit", "TenantKitEmbeddedPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TenantKitPostgresTests",
            dependencies: [
                "TenantKitPostgres", "TenantKitTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The CLI too: the Citus suite tells the demo's story on the cluster.
        .testTarget(name: "TenantKitMigrationsTests", dependencies: ["TenantKitMigrations", "TenantKitDoctor", "TenantKitPostgres", "TenantKit", "TenantKitTesting", "tenantkit"]),
        .testTarget(name: "TenantSQLTests", dependencies: ["TenantSQL", "TenantKitPostgres", "TenantKitTesting"]),
        .testTarget(
            name: "TenantKitTests",
            dependencies: [
                "TenantKit", "TenantSQL", "TenantKitPostgres", "TenantKitMigrations", "TenantKitTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
