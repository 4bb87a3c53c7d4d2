// swift-tools-version:6.0
import PackageDescription

// A package of its own, like the integration: Hummingbird and NIO stay out of TenantKit's main build.
let package = Package(
    name: "StratixAPI",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stratix-api", targets: ["stratix-api"]),
        // The service as a library too: Benchmarks/HTTP serves the same router under load.
        .library(name: "StratixAPI", targets: ["StratixAPI"]),
    ],
    dependencies: [
        // By name: a path package's identity is its folder's name, which differs between clones.
        .package(name: "TenantKit", path: "../.."),
        .package(name: "TenantKitHummingbird", path: "../../Integrations/TenantKitHummingbird"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // The service as a library, so the tests build the same router the executable serves.
        .target(
            name: "StratixAPI",
            dependencies: [
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "TenantKitHummingbird", package: "TenantKitHummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "stratix-api",
            dependencies: [
                "StratixAPI",
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "TenantKitMigrations", package: "TenantKit"),
                .product(name: "TenantKitEmbeddedPostgres", package: "TenantKit"),
                .product(name: "TenantKitHummingbird", package: "TenantKitHummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "StratixAPITests",
            dependencies: [
                "StratixAPI",
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "TenantKitTesting", package: "TenantKit"),
                .product(name: "TenantKitHummingbird", package: "TenantKitHummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
