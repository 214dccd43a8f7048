// swift-tools-version:6.1
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
        // Only SpokePostgres and HubStorePostgres link PostgresNIO; only the test servers link FlyingFox.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        // Only HubService (hubctl run: its HTTP listener, metrics, logs, webhooks) and HubDashboard
        // (the dashboard's pages on that listener) link these; Hummingbird without default traits.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Only the reliability battery's model-based tests (T3) link PropertyBased.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Core: IDs, values, JSON, the Spoke protocol, errors. No I/O.
        .target(name: "HubCore"),
        // Topology files: decoding, validation, ${ENV} substitution.
        .target(name: "HubTopology", dependencies: ["HubCore"]),
        // Field mapping, transforms, normalisation, filters, hashing.
        .target(name: "HubMapping", dependencies: [
            "HubCore", "HubTopology", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The hub database. The only module that knows SQL for the hub.
        .target(name: "HubStore", dependencies: ["HubCore", .product(name: "GRDB", package: "GRDB.swift")]),
        // The hub in PostgreSQL (`"hub": {"url": "postgres://…"}`): HubStore's SQL on PostgresNIO,
        // behind HubStore's HubDatabase protocol. Reuses the postgres spoke's connection settings.
        .target(name: "HubStorePostgres", dependencies: [
            "HubCore", "HubStore", "SpokePostgres", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
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
        // Schedules and where every system stands under them (`hubctl status`, the dashboard's
        // overview): when each system is read next, backoff, on time / delayed / failing. Reads
        // the hub only, so the dashboard uses it without linking the engine.
        .target(name: "HubSchedule", dependencies: ["HubCore", "HubTopology", "HubStore"]),
        // Continuous operation (`hubctl run`): the loop, the HTTP listener (/metrics, webhooks),
        // Prometheus metrics and JSON logs.
        .target(name: "HubService", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubSchedule",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The dashboard: page models read from the hub, HTML and SVG rendered as strings, and the
        // routes (pages and actions) installed on a Hummingbird router.
        .target(name: "HubDashboard", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubAudit", "HubStewardship", "HubSchedule",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The command line: parsing, wiring, rendering, exit codes.
        .target(name: "HubCLI", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubAdapters", "HubAudit", "HubStewardship",
            "HubSchedule", "HubService", "HubDashboard", "SpokePostgres", "HubStorePostgres",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            // Only to create the demo's SQLite systems.
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "hubctl", dependencies: ["HubCLI"]),
        // The benchmark harness (run in release: `swift run -c release hubctl-bench`); not a test.
        .executableTarget(name: "hubctl-bench", dependencies: ["HubCore", "HubStore", .product(name: "GRDB", package: "GRDB.swift")]),
        // Test support: in-memory spoke, spoke conformance suite, fixtures.
        .target(name: "HubTesting", dependencies: ["HubCore"]),
        // Test support: real servers the tests talk to (the fake CRM with scripted faults), the
        // services the test script starts (PostgreSQL, Kinto), a cluster of a test's own
        // (OwnPostgresCluster), and a hub of either kind (TestHubStore).
        .target(name: "HubTestServers", dependencies: [
            "HubCore", "HubStore", "HubStorePostgres", "SpokePostgres", "HubTesting", .product(name: "FlyingFox", package: "FlyingFox"),
        ]),

        .testTarget(name: "HubCoreTests", dependencies: ["HubCore"]),
        .testTarget(name: "HubTopologyTests", dependencies: ["HubCore", "HubTopology", "HubTesting"], exclude: ["Fixtures"]),
        .testTarget(name: "HubMappingTests", dependencies: ["HubCore", "HubTopology", "HubMapping"]),
        .testTarget(name: "HubStoreTests", dependencies: [
            "HubCore", "HubStore", "HubStorePostgres", "HubTestServers", "SpokePostgres",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "HubDashboardTests", dependencies: [
            "HubCore", "HubTopology", "HubStore", "HubSchedule", "HubDashboard", "HubTestServers",
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "SpokeTests", dependencies: ["HubCore", "HubTesting", "SpokeSQLite", "SpokeFiles",
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SystemSpokeTests", dependencies: [
            "HubCore", "HubTopology", "HubTesting", "HubTestServers", "SpokePostgres", "SpokeREST", "SpokeExec",
            "HubStore", "HubSync",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "HubSyncTests", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubTesting", "HubTestServers",
        ]),
        .testTarget(name: "HubServiceTests", dependencies: [
            "HubCore", "HubTopology", "HubStore", "HubSync", "HubSchedule", "HubService", "HubTesting", "HubTestServers",
        ]),
        .testTarget(name: "HubAuditTests", dependencies: [
            "HubCore", "HubTopology", "HubMapping", "HubStore", "HubSync", "HubAudit", "HubStewardship", "HubTesting",
            "HubTestServers", .product(name: "GRDB", package: "GRDB.swift"),
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
