// swift-tools-version:6.0
// hubctl: a hub-and-spoke, bi-directional sync orchestrator.
//
// Targets follow docs/architecture.md: the CLI parses and renders, the engine syncs, only the
// store knows SQL, spokes never see the hub. Heavy dependencies stay in the targets that need them
// so the core builds and tests fast.
import PackageDescription

let package = Package(
    name: "hubctl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hubctl", targets: ["hubctl"]),
        .library(name: "HubCore", targets: ["HubCore"]),
        .library(name: "HubTesting", targets: ["HubTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Only SpokePostgres links PostgresNIO; only the test servers link FlyingFox.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        // Only the reliability battery's model-based tests (T3) link PropertyBased.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Core: IDs, values, JSON, the Spoke protocol, errors. No I/O.
        .target(name: "HubCore"),
        // Topology files: decoding, validation, ${ENV} substitution.
        .target(name: "HubTopology", dependencies: ["HubCore"]),
        // Field mapping, transforms, normalisation, filters, hashing.
        .target(name: "HubMapping", dependencies: ["HubCore", "HubTopology"]),
        // The hub database. The only module that knows SQL for the hub.
        .target(name: "HubStore", dependencies: ["HubCore", .product(name: "GRDB", package: "GRDB.swift")]),
        // Spokes: one target per family so heavy dependencies stay local.
        // (GRDBSQLite: the SQLite C API, to bind and read text with its length, NUL included.)
        .target(name: "SpokeSQLite", dependencies: [
            "HubCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "SpokeFiles", dependencies: ["HubCore"]),
        .target(name: "SpokePostgres", dependencies: ["HubCore", .product(name: "PostgresNIO", package: "postgres-nio")]),
        .target(name: "SpokeREST", dependencies: ["HubCore"]),
        .target(name: "SpokeExec", dependencies: ["HubCore"]),
        // Builds spokes from a topology's systems.
        .target(name: "HubAdapters", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "SpokeSQLite", "SpokeFiles", "SpokePostgres", "SpokeREST", "SpokeExec",
        ]),
        // The engine: pull, merge, push; reports.
        .target(name: "HubSync", dependencies: ["HubCore", "HubTopology", "HubMapping", "HubStore"]),
        // Link audits and lineage: read-only invariant checks over the hub and the systems.
        .target(name: "HubAudit", dependencies: ["HubCore", "HubTopology", "HubMapping", "HubStore"]),
        // Manual stewardship of links and entities (link, unlink, relink, merge, unmerge, repairs).
        .target(name: "HubStewardship", dependencies: ["HubCore", "HubTopology", "HubMapping", "HubStore", "HubAudit"]),
        // The command line: parsing, wiring, rendering, exit codes.
        .target(name: "HubCLI", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubAdapters", "HubAudit", "HubStewardship",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            // Only to create the demo's SQLite systems.
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "hubctl", dependencies: ["HubCLI"]),
        // The benchmark harness (run in release: `swift run -c release hubctl-bench`); not a test.
        .executableTarget(name: "hubctl-bench", dependencies: ["HubCore", "HubStore", .product(name: "GRDB", package: "GRDB.swift")]),
        // Test support: in-memory spoke, spoke conformance suite, fixtures.
        .target(name: "HubTesting", dependencies: ["HubCore"]),
        // Test support: real servers the tests talk to (the fake CRM with scripted faults) and
        // the services the test script starts (PostgreSQL, Kinto).
        .target(name: "HubTestServers", dependencies: ["HubCore", .product(name: "FlyingFox", package: "FlyingFox")]),

        .testTarget(name: "HubCoreTests", dependencies: ["HubCore"]),
        .testTarget(name: "HubTopologyTests", dependencies: ["HubCore", "HubTopology", "HubTesting"], exclude: ["Fixtures"]),
        .testTarget(name: "HubMappingTests", dependencies: ["HubCore", "HubTopology", "HubMapping"]),
        .testTarget(name: "HubStoreTests", dependencies: ["HubCore", "HubStore"]),
        .testTarget(name: "SpokeTests", dependencies: ["HubCore", "HubTesting", "SpokeSQLite", "SpokeFiles",
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SystemSpokeTests", dependencies: [
            "HubCore", "HubTopology", "HubTesting", "HubTestServers", "SpokePostgres", "SpokeREST", "SpokeExec",
            "HubStore", "HubSync",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "HubSyncTests", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubTesting",
        ]),
        .testTarget(name: "HubAuditTests", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubAudit", "HubStewardship", "HubTesting",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The reliability battery: kills, faults, locks and malformed input against the binary.
        .testTarget(name: "ReliabilityTests", dependencies: [
            "hubctl", "HubCore", "HubTopology", "HubStore", "HubSync", "HubAdapters", "HubTesting", "HubTestServers",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        // Runs the built `hubctl` binary end to end.
        .testTarget(name: "HubctlTests", dependencies: [
            "hubctl", "HubCore", "HubTesting", "HubTestServers", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
