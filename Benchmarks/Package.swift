// swift-tools-version:6.0
import PackageDescription

// A separate package so postgres-nio and swift-nio never slow the main package's build.
let package = Package(
    name: "TenantKitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TenantKit", path: ".."),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        // Our own view of libpq for the raw baseline: the main package's CLibPQ is not a product.
        .systemLibrary(name: "BenchLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Counts heap allocations of the whole process (allocations per operation and per row).
        .target(name: "BenchMallocCounter"),
        .executableTarget(
            name: "tenantkit-bench",
            dependencies: [
                "BenchLibPQ",
                "BenchMallocCounter",
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "TenantSQL", package: "TenantKit"),
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantKitMigrations", package: "TenantKit"),
                .product(name: "TenantKitTesting", package: "TenantKit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
