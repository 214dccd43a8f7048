@testable import HubTopology
import SpokeExec
import SpokePostgres
import SpokeREST
import Testing

/// The topology decoder validates the keys each adapter reads: the two lists stay in step.
@Suite struct ConnectionKeysTests {
    @Test func theDecoderKnowsEveryKeyTheAdaptersRead() {
        #expect(TopologyDecoder.postgresConnectionKeys == PostgresSettings.connectionKeys)
        #expect(TopologyDecoder.postgresSSLModes == PostgresSettings.SSLMode.allCases.map(\.rawValue))
        #expect(TopologyDecoder.restConnectionKeys == RESTSettings.connectionKeys)
        #expect(TopologyDecoder.restAuthKeys == RESTAuth.keys)
        #expect(TopologyDecoder.restAuthTypes == RESTAuth.types)
        #expect(TopologyDecoder.restRetryKeys == RetryPolicy.keys)
        #expect(TopologyDecoder.restEndpointKeys == RESTEndpoint.keys)
        #expect(TopologyDecoder.restPaginationKeys == RESTEndpoint.paginationKeys)
        #expect(TopologyDecoder.restPaginationStyles == RESTEndpoint.paginationStyles)
        #expect(TopologyDecoder.restOperationKeys == RESTEndpoint.operationKeys)
        #expect(TopologyDecoder.restMethods == RESTEndpoint.methods)
        #expect(TopologyDecoder.restTombstoneKeys == RESTEndpoint.tombstoneKeys)
        #expect(TopologyDecoder.execConnectionKeys == ExecSpoke.connectionKeys)
    }
}
