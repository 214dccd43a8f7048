import HTTPTypes
import Hummingbird

/// Refuses requests whose `Host` is not a loopback name, for a listener bound to loopback: a web
/// page elsewhere cannot rebind its own name to 127.0.0.1 (DNS rebinding) and read the hub
/// through a browser on this machine.
public struct LoopbackHostMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Paths that answer whatever the host name (`hubctl run`'s `/hooks/` and `/metrics`, which
    /// senders and scrapers reach through a proxy under the public name).
    let exemptPrefixes: [String]

    public init(exceptPathsStartingWith exemptPrefixes: [String] = []) { self.exemptPrefixes = exemptPrefixes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        if exemptPrefixes.contains(where: { path.hasPrefix($0) }) { return try await next(request, context) }
        guard Self.isLoopback(host: request.head.authority) else {
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .misdirectedRequest, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "This dashboard answers on 127.0.0.1, localhost or [::1] only.\n")))
        }
        return try await next(request, context)
    }

    /// True for `127.0.0.1`, any `127.x`, `localhost` and `[::1]`, with or without a port.
    static func isLoopback(host: String?) -> Bool {
        guard var h = host?.lowercased(), !h.isEmpty else { return false }
        if h.hasPrefix("[") { return h.hasPrefix("[::1]") }
        if let colon = h.lastIndex(of: ":") { h = String(h[..<colon]) }
        return h == "localhost" || h.hasPrefix("127.") && h.split(separator: ".").count == 4 && h.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}
