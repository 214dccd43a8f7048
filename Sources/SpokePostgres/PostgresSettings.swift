import Foundation
import HubCore

/// How to reach a PostgreSQL database: from a `postgres://` URL or from separate fields.
///
/// The password is never part of ``description`` or of any error message: a person sees
/// `user@host:port/database`.
public struct PostgresSettings: Sendable, Hashable, CustomStringConvertible {
    /// TLS use, as libpq's `sslmode` names it.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate.
        case prefer
        /// TLS always, without verifying the server's certificate.
        case require
        /// TLS always, verifying the certificate and that it names the host.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    public var password: String?
    /// The schema holding the bound tables (an `object` may also say `schema.table`).
    public var schema: String
    public var sslMode: SSLMode
    /// Seconds to wait for a connection.
    public var connectTimeout: Int

    public init(host: String = "127.0.0.1", port: Int = 5432, database: String, user: String, password: String? = nil,
                schema: String = "public", sslMode: SSLMode = .prefer, connectTimeout: Int = 10) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.schema = schema
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
    }

    /// `user@host:port/database`: where the spoke connects, without the password.
    public var description: String { "\(user)@\(host):\(port)/\(database)" }

    /// The keys a topology's `connection` may hold for the postgres adapter.
    public static let connectionKeys = ["url", "host", "port", "database", "user", "password", "schema", "sslmode",
                                        "connect_timeout"]

    /// Reads a topology's `connection` object: a `url` (`postgres://user:password@host:port/db?sslmode=require`)
    /// and/or fields, where fields override the URL's parts.
    /// - Throws: a message saying what is missing or malformed (never the password).
    public static func parse(_ connection: [String: Value]) throws(SettingsError) -> PostgresSettings {
        var host: String?, port: Int?, database: String?, user: String?, password: String?
        var sslMode: SSLMode?
        if let text = connection["url"]?.stringValue {
            let url: ConnectionURL
            do {
                url = try ConnectionURL.parse(text, schemes: ["postgres", "postgresql"])
            } catch {
                throw SettingsError("connection.url: \(error.message)")
            }
            host = url.host
            port = url.port
            user = url.user
            password = url.password
            database = url.database
            if let mode = url.query["sslmode"] {
                guard let parsed = SSLMode(rawValue: mode) else {
                    throw SettingsError("sslmode in connection.url must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = parsed
            }
        }
        if let v = connection["host"]?.stringValue { host = v }
        if let v = connection["port"] {
            guard let p = v.intValue.map({ Int($0) }) ?? v.stringValue.flatMap({ Int($0) }), (1...65535).contains(p) else {
                throw SettingsError("connection.port must be a port number (1–65535)")
            }
            port = p
        }
        if let v = connection["database"]?.stringValue { database = v }
        if let v = connection["user"]?.stringValue { user = v }
        if let v = connection["password"]?.stringValue { password = v }
        if let v = connection["sslmode"]?.stringValue {
            guard let mode = SSLMode(rawValue: v) else {
                throw SettingsError("connection.sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
        var timeout = 10
        if let v = connection["connect_timeout"] {
            guard let t = v.intValue.map({ Int($0) }), t > 0 else { throw SettingsError("connection.connect_timeout must be a number of seconds") }
            timeout = t
        }
        guard let database, !database.isEmpty else {
            throw SettingsError("connection.database (or the database in connection.url) is missing")
        }
        guard let user, !user.isEmpty else {
            throw SettingsError("connection.user (or the user in connection.url) is missing")
        }
        let schema = connection["schema"]?.stringValue ?? "public"
        return PostgresSettings(host: host ?? "127.0.0.1", port: port ?? 5432, database: database, user: user,
                                password: password, schema: schema.isEmpty ? "public" : schema,
                                sslMode: sslMode ?? .prefer, connectTimeout: timeout)
    }
}

/// A connection setting that cannot be used, with what to write instead.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
