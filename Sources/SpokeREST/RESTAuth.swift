import Foundation
import HubCore

/// How requests authenticate.
public enum RESTAuth: Sendable {
    case none
    /// `Authorization: Bearer <token>`.
    case bearer(token: String)
    /// `Authorization: Basic base64(user:password)`.
    case basic(username: String, password: String)
    /// A header holding an API key (`X-API-Key: <key>`).
    case header(name: String, value: String)

    /// The keys of `connection.auth`.
    public static let keys = ["type", "token", "username", "password", "name", "value"]
    public static let types = ["none", "bearer", "basic", "header"]

    static func parse(_ value: Value) throws(RESTConfigurationError) -> RESTAuth {
        guard let o = value.objectValue, let type = o["type"]?.stringValue else {
            throw RESTConfigurationError("connection.auth must be an object with a type: bearer, basic or header")
        }
        func text(_ key: String) throws(RESTConfigurationError) -> String {
            guard let s = o[key]?.stringValue, !s.isEmpty else {
                throw RESTConfigurationError("connection.auth.\(key) is missing for \(type) authentication")
            }
            return s
        }
        switch type {
        case "none": return .none
        case "bearer": return .bearer(token: try text("token"))
        case "basic": return .basic(username: try text("username"), password: try text("password"))
        case "header": return .header(name: try text("name"), value: try text("value"))
        default: throw RESTConfigurationError("connection.auth.type must be one of \(types.joined(separator: ", "))")
        }
    }

    /// The header to send, if any.
    var header: (name: String, value: String)? {
        switch self {
        case .none: return nil
        case .bearer(let token): return ("Authorization", "Bearer \(token)")
        case .basic(let user, let password):
            return ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        case .header(let name, let value): return (name, value)
        }
    }
}
