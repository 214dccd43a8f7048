/// A database connection URL (`postgres://user:password@host:5432/database?sslmode=require`),
/// read strictly so that it has one meaning only.
///
/// A password with a raw `@`, `/`, `?`, `#`, `%` or quote can be split in more than one way
/// (`postgres://u:p@ss/w@host/db`: is the host `ss` or `host`?). Such a URL is refused rather
/// than guessed at — a wrong guess sends part of the password to a host name and prints it —
/// and the person is asked to percent-encode those characters. Errors never quote the URL.
public struct ConnectionURL: Sendable, Hashable {
    public var scheme: String
    /// Percent-decoded.
    public var user: String?
    /// Percent-decoded.
    public var password: String?
    /// Without brackets for an IPv6 address; nil when the URL names none.
    public var host: String?
    public var port: Int?
    /// Percent-decoded; nil when the URL has no path.
    public var database: String?
    /// Percent-decoded query parameters (the last of a repeated name wins).
    public var query: [String: String]

    /// Why a URL was refused: what is wrong, never any part of the URL.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// How to write a password that needs it.
    public static let encodingHint = "percent-encode these characters in the user and password: @ as %40, / as %2F, : as %3A, "
        + "? as %3F, # as %23, % as %25, \" as %22, space as %20 (for example postgres://hubctl:p%40ss%2Fword@db:5432/billing), "
        + "or give user and password as separate connection keys"

    /// Reads `text`, which must use one of `schemes`.
    /// - Throws: ``Problem`` when the URL is malformed or ambiguous.
    public static func parse(_ text: String, schemes: [String]) throws(Problem) -> ConnectionURL {
        guard let sep = text.range(of: "://") else {
            throw Problem(message: "expected a URL like \(schemes[0])://user:password@host:5432/database")
        }
        let scheme = text[..<sep.lowerBound].lowercased()
        guard schemes.contains(scheme) else {
            throw Problem(message: "the URL's scheme must be \(schemes.joined(separator: " or ")))://")
        }
        let rest = text[sep.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]
        let ats = authority.filter { $0 == "@" }.count
        if ats > 1 || tail.contains("@") {
            throw Problem(message: "the URL cannot be read one way only: its user or password holds a raw @, /, ? or #; " + encodingHint)
        }
        var url = ConnectionURL(scheme: scheme, user: nil, password: nil, host: nil, port: nil, database: nil, query: [:])
        var hostPort = authority[...]
        if let at = authority.firstIndex(of: "@") {
            let userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            guard decode(userinfo, allowing: userinfoCharacters) != nil else {
                throw Problem(message: "the URL's user or password holds a character that must be percent-encoded; " + encodingHint)
            }
            if let colon = userinfo.firstIndex(of: ":") {
                url.user = decode(userinfo[..<colon], allowing: userinfoCharacters)
                url.password = decode(userinfo[userinfo.index(after: colon)...], allowing: userinfoCharacters)
            } else {
                url.user = decode(userinfo, allowing: userinfoCharacters)
            }
        }
        var hostText = hostPort
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw Problem(message: "the URL's IPv6 host lacks its closing ]") }
            url.host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            hostText = hostPort[hostPort.index(after: close)...]
            guard hostText.isEmpty || hostText.hasPrefix(":") else { throw Problem(message: "the URL's host is malformed") }
            if !hostText.isEmpty { try url.readPort(hostText.dropFirst()) }
        } else {
            if let colon = hostPort.lastIndex(of: ":") {
                try url.readPort(hostPort[hostPort.index(after: colon)...])
                hostText = hostPort[..<colon]
            }
            guard let host = decode(hostText, allowing: hostCharacters) else {
                throw Problem(message: "the URL's host holds a character a host name cannot have; " + encodingHint)
            }
            url.host = host.isEmpty ? nil : host
        }
        var path = tail
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
        var query: Substring = ""
        if let q = path.firstIndex(of: "?") {
            query = path[path.index(after: q)...]
            path = path[..<q]
        }
        if path.hasPrefix("/") { path = path.dropFirst() }
        if !path.isEmpty {
            guard !path.contains("/"), let database = decode(path, allowing: pathCharacters) else {
                throw Problem(message: "the URL's database name must be one path segment; percent-encode / as %2F and % as %25")
            }
            url.database = database
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0], allowing: queryCharacters),
                  let value = decode(parts.count > 1 ? parts[1] : "", allowing: queryCharacters) else {
                throw Problem(message: "the URL's query holds a character that must be percent-encoded")
            }
            url.query[name] = value
        }
        return url
    }

    private mutating func readPort(_ text: Substring) throws(Problem) {
        guard !text.isEmpty else { return }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(text), (1...65535).contains(p) else {
            throw Problem(message: "the URL's port must be a number from 1 to 65535; if a password holds a raw @ or :, " + Self.encodingHint)
        }
        port = p
    }

    static let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    static let subDelims = Set("!$&'()*+,;=")
    static let userinfoCharacters = unreserved.union(subDelims).union([":"])
    static let hostCharacters = unreserved.union(subDelims)
    static let pathCharacters = unreserved.union(subDelims).union([":", "@"])
    static let queryCharacters = unreserved.union(subDelims.subtracting(["&", "="])).union([":", "@", "/", "?"])

    /// `text` percent-decoded, or nil when it holds a character outside `allowed` or a `%` not
    /// followed by two hex digits, or decodes to invalid UTF-8.
    static func decode(_ text: Substring, allowing allowed: Set<Character>) -> String? {
        var bytes: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "%" {
                let h1 = text.index(after: i)
                guard h1 < text.endIndex, let high = text[h1].hexDigitValue else { return nil }
                let h2 = text.index(after: h1)
                guard h2 < text.endIndex, let low = text[h2].hexDigitValue else { return nil }
                bytes.append(UInt8(high * 16 + low))
                i = text.index(after: h2)
                continue
            }
            guard allowed.contains(c) else { return nil }
            bytes += Array(String(c).utf8)
            i = text.index(after: i)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return Array(text.utf8) == bytes ? text : nil
    }
}
