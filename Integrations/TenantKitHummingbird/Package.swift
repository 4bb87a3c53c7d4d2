// swift-tools-version:6.0
import PackageDescription

// A package of its own, so Hummingbird and NIO never enter the build of TenantKit's main package.
let package = Package(
    name: "TenantKitHummingbird",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TenantKitHummingbird", targets: ["TenantKitHummingbird"]),
    ],
    dependencies: [
        // By name: a path package's identity is its folder's name, which differs between clones.
        .package(name: "TenantKit", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "TenantKitHummingbird",
            dependencies: [
                .product(name: "TenantKit", package: "TenantKit"),
                .product(name: "TenantSQL", package: "TenantKit"),
                .product(name: "TenantKitPostgres", package: "TenantKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "TenantKitHummingbirdTests",
            dependencies: [
                "TenantKitHummingbird",
                .product(name: "TenantKitTesting", package: "TenantKit"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
