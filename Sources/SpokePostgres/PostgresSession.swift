import HubCore
import Logging
import NIOSSL
import PostgresNIO

/// The spoke's one connection to the database, opened on first use and reopened after it
/// breaks. Calls run one at a time, in order, so a write batch's transaction never interleaves
/// with another call on the same connection.
actor PostgresSession {
    let system: SystemName
    let settings: PostgresSettings
    private var connection: PostgresConnection?
    private var nextID = 1
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private let logger = Logger(label: "hubctl.spoke.postgres")

    init(system: SystemName, settings: PostgresSettings) {
        self.system = system
        self.settings = settings
    }

    deinit {
        // Nothing waits for the close once the spoke is gone; the closure keeps the connection
        // alive until it is closed.
        guard let connection else { return }
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Runs `body` on the open connection, connecting first if needed. A connection that broke
    /// is dropped so the next call reconnects.
    func run<T: Sendable>(_ body: (PostgresConnection, Logger) async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        let connection = try await open()
        do {
            return try await body(connection, logger)
        } catch {
            if connection.isClosed { self.connection = nil }
            throw error
        }
    }

    /// Waits for the calls before this one to finish.
    private func acquire() async {
        if busy { await withCheckedContinuation { waiting.append($0) } } else { busy = true }
    }

    /// Hands the connection to the next waiting call.
    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    /// Closes the connection (the next call reconnects).
    func close() async {
        guard let connection else { return }
        self.connection = nil
        try? await connection.close()
    }

    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        nextID += 1
        let connection = try await Self.connect(system: system, settings: settings, id: nextID, logger: logger)
        self.connection = connection
        return connection
    }

    /// Opens a new connection with the spoke's settings (TLS per `sslmode`, UTC timestamps).
    /// `application_name` is how the connection shows in `pg_stat_activity`.
    static func connect(system: SystemName, settings: PostgresSettings, id: Int, applicationName: String = "hubctl",
                        logger: Logger) async throws -> PostgresConnection {
        let configuration = try settings.connectionConfiguration(applicationName: applicationName)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        } catch {
            throw PostgresErrors.connectionError(error, system: system, settings: settings)
        }
    }
}

extension PostgresSettings {
    /// PostgresNIO's configuration for these settings: TLS per `sslmode`, UTC timestamps, and
    /// `applicationName` as the connection shows in `pg_stat_activity`.
    public func connectionConfiguration(applicationName: String) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try Self.tls(self))
        configuration.options.connectTimeout = .seconds(Int64(connectTimeout))
        // Timestamps read back in UTC, whatever the server's default zone.
        configuration.options.additionalStartupParameters = [("TimeZone", "UTC"), ("application_name", applicationName)]
        return configuration
    }

    private static func tls(_ settings: PostgresSettings) throws -> PostgresConnection.Configuration.TLS {
        switch settings.sslMode {
        case .disable:
            return .disable
        case .prefer, .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            let context = try NIOSSLContext(configuration: tls)
            return settings.sslMode == .prefer ? .prefer(context) : .require(context)
        case .verifyFull:
            return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}
