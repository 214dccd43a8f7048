import HubCore
@testable import SpokePostgres
import Testing

struct PostgresChangeLogPositionTests {
    @Test("every change-log position reads back as itself from its cursor")
    func positionsRoundTrip() {
        let positions: [PostgresChangeLogPosition] = [
            .full(snapshot: "10:12:10,11", after: nil), .full(snapshot: "10:12:", after: "it's \"7\""),
            .full(snapshot: nil, after: nil), .full(snapshot: nil, after: "42"),
            .since("1319:1319:"), .window(from: "1317:1319:1317", to: "1320:1320:", after: 9_000_000_000),
        ]
        for position in positions {
            #expect(PostgresChangeLogPosition(position.cursor) == position, "\(position.cursor)")
        }
    }

    @Test("a cursor-column position, no cursor and a malformed one are not change-log positions")
    func otherCursorsAreNotChangeLogPositions() {
        let others: [Cursor?] = [
            nil, PostgresReadPosition.next(.init(start: .atLeast("2024-05-01T10:00:00Z"))).cursor,
            PostgresReadPosition.scan(after: "7").cursor, Cursor(#"{"v":"2024-05-01T10:00:00Z"}"#),
            PostgresReadPosition.values(after: .init(value: "v", id: "1"), run: .init(start: .all)).cursor,
            Cursor("not json"), Cursor(#"{"log":"since"}"#),
            Cursor(#"{"log":"window","from":"1:2:","to":"3:4:","change":"x"}"#), Cursor(#"{"log":"other"}"#),
        ]
        for cursor in others {
            #expect(PostgresChangeLogPosition(cursor) == nil, "\(String(describing: cursor))")
        }
    }
}
