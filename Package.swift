// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TenantKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "TenantSQL", targets: ["TenantSQL"]),
        .library(name: "Migrations", targets: ["Migrations"]),
        .library(name: "TenantKit", targets: ["TenantKit"]),
        .library(name: "TenantKitTesting", targets: ["TenantKitTesting"]),
        .executable(name: "tenantkit", targets: ["tenantkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "TenantSQL", dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Migrations", dependencies: ["Postgres"]),
        .target(name: "TenantKit", dependencies: ["TenantSQL", "Postgres", "Migrations"], resources: [.copy("Schema")]),
        .target(name: "TenantKitTesting", dependencies: ["Postgres", "Migrations", "TenantSQL", "TenantKit", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "tenantkit",
            dependencies: [
                "Postgres", "Migrations", "TenantKit", "TenantKitTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TenantKitTesting"]),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "Postgres", "TenantKit", "TenantKitTesting"]),
        .testTarget(name: "TenantSQLTests", dependencies: ["TenantSQL", "Postgres", "TenantKitTesting"]),
        .testTarget(name: "TenantKitTests", dependencies: ["TenantKit", "TenantSQL", "Postgres", "Migrations", "TenantKitTesting"]),
    ],
    swiftLanguageModes: [.v6]
)
