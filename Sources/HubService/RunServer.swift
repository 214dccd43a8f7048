import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The HTTP listener of `hubctl run`: `GET /metrics` (Prometheus text), `POST /hooks/{system}`
/// (webhooks) and `GET /healthz`, plus whatever routes the caller installs (the dashboard).
public enum RunServer {
    /// Seconds a connection may stay silent before it is closed.
    public static let idleTimeout = 30

    /// An application listening on `host:port` (port 0: any free port; `onListening` is told
    /// which one).
    public static func make(
        host: String, port: Int, metrics: RunMetrics, webhooks: WebhookReceiver?, logger: Logger,
        installRoutes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("/healthz") { _, _ -> String in "ok\n" }
        router.post("/hooks/:system") { request, context -> Response in
            let system = try context.parameters.require("system")
            guard let webhooks else { return Response(status: .notFound) }
            var request = request
            let headers = request.headers
            let answer = await webhooks.receive(
                system: system,
                header: { name in HTTPField.Name(name).flatMap { headers[$0] } },
                readBody: {
                    do {
                        return Array(buffer: try await request.collectBody(upTo: WebhookReceiver.maxBody))
                    } catch is NIOTooManyBytesError {
                        throw WebhookOutcome.tooLarge
                    }
                })
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            if let retryAfter = answer.retryAfter { fields[.retryAfter] = "\(retryAfter)" }
            return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"outcome\":\"\(answer.outcome.rawValue)\"}\n")))
        }
        installRoutes(router)
        return Application(
            router: router,
            // A connection that sends nothing for this long is closed: a sender stalled in the
            // middle of a body cannot hold one of the webhook slots for ever.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(idleTimeout)))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "hubctl"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
