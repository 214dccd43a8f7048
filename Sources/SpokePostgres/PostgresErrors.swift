import HubCore
import PostgresNIO

/// Turns PostgresNIO's errors into ``SpokeError``s a person can act on.
///
/// Messages carry PostgreSQL's own message and SQLSTATE (which name constraints and types,
/// never the values of a row) and the connection's `user@host:port/database`, never the
/// password; statement parameters are never part of a message.
public enum PostgresErrors {
    /// SQLSTATE classes that concern one record: data exceptions (22: NUL in text, value too
    /// long, invalid input syntax, out of range) and integrity violations (23: NOT NULL,
    /// UNIQUE, FOREIGN KEY, CHECK).
    static func isRecordLevel(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    public static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// PostgreSQL's message with its SQLSTATE and, where the server names them, the column and
    /// constraint: `value too long for type character varying(5) (SQLSTATE 22001, column 'code')`.
    public static func serverMessage(_ error: any Error) -> String? {
        guard let info = (error as? PSQLError)?.serverInfo, var message = info[.message] else { return nil }
        // Data errors quote the refused input at the end (`invalid input syntax for type
        // integer: "abc"`): keep the reason, withhold the value.
        if info[.sqlState]?.hasPrefix("22") == true, let quote = message.range(of: ": \"") {
            message = String(message[..<quote.lowerBound]) + " (value withheld)"
        }
        var extra: [String] = []
        if let state = info[.sqlState] { extra.append("SQLSTATE \(state)") }
        if let column = info[.columnName] { extra.append("column '\(column)'") }
        if let constraint = info[.constraintName] { extra.append("constraint '\(constraint)'") }
        return extra.isEmpty ? message : "\(message) (\(extra.joined(separator: ", ")))"
    }

    /// A record-level rejection's message for a `.failed` result.
    static func rejection(_ error: any Error) -> String {
        "rejected by PostgreSQL: " + (serverMessage(error) ?? "the row was refused")
    }

    /// A failure to connect: unreachable, wrong password, unknown database.
    public static func connectionError(_ error: any Error, system: SystemName, settings: PostgresSettings) -> SpokeError {
        let target = settings.description
        if let state = sqlState(error) {
            switch state {
            case "28P01", "28000":
                return SpokeError(.configuration, system: system, message:
                    "PostgreSQL refused the login of \(target): wrong password or user (SQLSTATE \(state)); "
                        + "check connection.user and the password variable")
            case "3D000":
                return SpokeError(.configuration, system: system, message:
                    "database '\(settings.database)' does not exist on \(settings.host):\(settings.port); check connection.database")
            default:
                return SpokeError(.unavailable, system: system, message:
                    "cannot connect to \(target): \(serverMessage(error) ?? "server error")")
            }
        }
        if let psql = error as? PSQLError {
            switch psql.code {
            case .authMechanismRequiresPassword:
                return SpokeError(.configuration, system: system, message:
                    "PostgreSQL at \(settings.host):\(settings.port) asks for a password; set connection.password from an environment variable")
            case .sslUnsupported:
                return SpokeError(.configuration, system: system, message:
                    "the server at \(settings.host):\(settings.port) does not support TLS; use sslmode prefer or disable")
            default:
                break
            }
        }
        return SpokeError(.unavailable, system: system, message:
            "cannot connect to \(target): \(describeTransport(error)); check that PostgreSQL is running and accepts TCP connections there")
    }

    /// A short, secret-free description of a transport error.
    static func describeTransport(_ error: any Error) -> String {
        let text = String(describing: (error as? PSQLError)?.underlying ?? error)
        if text.contains("Connection refused") { return "the connection was refused" }
        if text.localizedCaseInsensitiveContains("timed out") || text.localizedCaseInsensitiveContains("timeout") {
            return "the connection timed out"
        }
        if text.contains("Name or service not known") || text.contains("resolve") { return "the host name does not resolve" }
        if let psql = error as? PSQLError { return "\(psql.code)" }
        return "\(type(of: error))"
    }

    /// A failure of a statement that is not about one record.
    static func statementError(_ error: any Error, system: SystemName, object: String?) -> any Error {
        if error is SpokeError || error is CancellationError { return error }
        if let message = serverMessage(error) {
            let state = sqlState(error) ?? ""
            // 42: syntax or access rule (missing table/column, permission); 0A: not supported.
            let kind: SpokeError.Kind = state.hasPrefix("42") || state.hasPrefix("0A") ? .configuration : .unavailable
            return SpokeError(kind, system: system, object: object, message: message)
        }
        return SpokeError(.unavailable, system: system, object: object,
                          message: "the connection to PostgreSQL failed: \(describeTransport(error))")
    }
}
