// swift-tools-version:6.0
import PackageDescription

// The HTTP load comparison: the Stratix example service (TenantKit + TenantKitHummingbird) against
// the same handlers on Hummingbird + postgres-nio, driven by wrk. A package of its own so neither
// Hummingbird nor postgres-nio reaches the main package or the driver benchmarks.
let package = Package(
    name: "StratixLoad",
    platforms: [.macOS(.v15)],
    dependencies: [
        // By name: a path package's identity is its folder's name, which differs between clones.
        .package(name: "TenantKit", path: "../.."),
        .package(name: "TenantKitHummingbird", path: "../../Integrations/TenantKitHummingbird"),
        .package(name: "StratixAPI", path: "../../Examples/StratixAPI"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "stratix-load",
            dependencies: [
                .product(name: "StratixAPI", package: "StratixAPI"),
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "TenantKitMigrations", package: "TenantKit"),
                .product(name: "TenantKitEmbeddedPostgres", package: "TenantKit"),
                .product(name: "TenantKitHummingbird", package: "TenantKitHummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
