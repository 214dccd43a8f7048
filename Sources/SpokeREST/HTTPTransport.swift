import Foundation
import HubCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request as the REST spoke sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    public var timeout: Double
}

/// One HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Sends requests. The default sends them with URLSession; tests may put another in.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A transport failure: no HTTP response came back.
struct TransportError: Error, Sendable {
    /// What happened, without the URL (it may carry IDs a person need not see in logs).
    var reason: String
}

/// FoundationNetworking's URLSession. Redirects are not followed, so credentials never travel
/// to another address; a 3xx response is reported as such.
///
/// On Linux, URLSession cannot hand back a 401 that carries `WWW-Authenticate` (Kinto's, for
/// one): it turns it into an authentication challenge and then either waits forever or cancels
/// the task. The delegate declines every challenge and remembers it, and a task cancelled after
/// one is reported as the 401 it was.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let delegate = SessionDelegate()

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var r = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: request.timeout)
        r.httpMethod = request.method
        for (name, value) in request.headers { r.setValue(value, forHTTPHeaderField: name) }
        r.httpBody = request.body
        let delegate = delegate
        let taskID = TaskID()
        let timeout = request.timeout
        return try await withCheckedThrowingContinuation { continuation in
            let pending = Locked<CheckedContinuation<HTTPResponse, any Error>?>(continuation)
            let finish: @Sendable (Result<HTTPResponse, any Error>) -> Bool = { outcome in
                guard let waiting = pending.withLock({ p in defer { p = nil }; return p }) else { return false }
                waiting.resume(with: outcome)
                return true
            }
            let task = session.dataTask(with: r) { data, response, error in
                let challenge = delegate.challenge(for: taskID.value)
                _ = finish(Self.outcome(data, response, error, challenge: challenge))
            }
            taskID.value = task.taskIdentifier
            task.resume()
            // FoundationNetworking on Linux does not enforce `timeoutInterval` on a server that
            // accepts the connection and never answers: the request is given up here instead.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if finish(.failure(TransportError(reason: "the request timed out (no answer within \(Self.seconds(timeout)))"))) { task.cancel() }
            }
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// The response, a 401 stood in for a declined challenge, or a transport error.
    private static func outcome(_ data: Data?, _ response: URLResponse?, _ error: (any Error)?,
                                challenge: HTTPResponse?) -> Result<HTTPResponse, any Error> {
        if let error {
            if (error as? URLError)?.code == .cancelled, let challenge { return .success(challenge) }
            return .failure(TransportError(reason: (error as? URLError).map(describe) ?? "the request failed (\(type(of: error)))"))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(TransportError(reason: "the answer was not HTTP"))
        }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let name = k as? String, let value = v as? String { headers[name] = value }
        }
        return .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
    }

    static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: return "the request timed out"
        case .cannotConnectToHost: return "the connection was refused"
        case .cannotFindHost, .dnsLookupFailed: return "the host name does not resolve"
        case .networkConnectionLost: return "the connection was dropped"
        case .notConnectedToInternet: return "there is no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "the TLS connection failed (\(error.code.rawValue))"
        default: return "the request failed (URLError \(error.code.rawValue))"
        }
    }
}

/// Refuses every redirect and declines every authentication challenge, remembering which
/// tasks were challenged (see ``URLSessionTransport``). The lock guards `challenged`.
private final class SessionDelegate: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var challenged: [Int: HTTPResponse] = [:]

    /// The 401 a declined challenge stood for, once.
    func challenge(for task: Int) -> HTTPResponse? {
        lock.withLock { challenged.removeValue(forKey: task) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        let status = (challenge.failureResponse as? HTTPURLResponse)?.statusCode ?? 401
        lock.withLock { challenged[task.taskIdentifier] = HTTPResponse(status: status, headers: [:], body: Data()) }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}

/// A task's identifier, set once the task exists and read when it completes. The lock guards `id`.
private final class TaskID: @unchecked Sendable {
    private let lock = NSLock()
    private var id = -1
    var value: Int {
        get { lock.withLock { id } }
        set { lock.withLock { id = newValue } }
    }
}
