import HubCore
import HubService
import HubStore
import HubTopology
import Testing

/// The units a topology gives its workers, and the order a round claims them in.
@Suite struct WorkPlanTests {
    /// customer; order and ticket refer to it; employee and manager refer to each other (a pair).
    static let entities = """
        "customer": {"fields": {"email": {"type": "string"}}},
        "order": {"fields": {"number": {"type": "string"}, "customer": {"type": "ref", "entity": "customer"}}},
        "ticket": {"fields": {"code": {"type": "string"}, "customer": {"type": "ref", "entity": "customer"}}},
        "employee": {"fields": {"name": {"type": "string"}, "boss": {"type": "ref", "entity": "employee"},
                                "desk": {"type": "ref", "entity": "desk"}}},
        "desk": {"fields": {"code": {"type": "string"}, "holder": {"type": "ref", "entity": "employee"}}}
        """

    static func plan(_ systems: String) throws -> WorkPlan {
        WorkPlan(try TopologyLoader.decode(#"{"version": 1, "entities": {\#(entities)}, "systems": {\#(systems)}}"#,
                                           baseDirectory: "/tmp", environment: [:]))
    }

    /// An entity's mapping in a system: every canonical field under its own name.
    static func object(_ name: String) -> String {
        let fields = ["c": #""email": "email""#, "o": #""number": "number", "customer": "customer""#,
                      "t": #""code": "code", "customer": "customer""#, "e": #""name": "name", "boss": "boss", "desk": "desk""#,
                      "d": #""code": "code", "holder": "holder""#][name]!
        return #"{"object": "\#(name)", "fields": {\#(fields)}}"#
    }

    /// Claims every ready unit in turn, as one worker would; the units in the order done.
    static func drain(_ plan: WorkPlan) -> [WorkUnit] {
        var done: [WorkUnit] = []
        while let next = plan.ready(done: Set(done)).first { done.append(next) }
        return done
    }

    @Test("A system of a parent and two children: children pull after the parent, side by side, then the system's deletes; pushes after every read")
    func parentAndChildren() throws {
        let plan = try Self.plan("""
            "shop": {"adapter": "jsonl", "entities": {"customer": \(Self.object("c")), "order": \(Self.object("o")), "ticket": \(Self.object("t"))}},
            "app": {"adapter": "jsonl", "entities": {"customer": \(Self.object("c"))}}
            """)
        #expect(plan.units.map(\.description) == [
            "pull-deletes:shop", "pull:app/customer", "pull:shop/customer", "pull:shop/order", "pull:shop/ticket",
            "push-deletes:shop", "push:app/customer", "push:shop/customer", "push:shop/order", "push:shop/ticket",
        ])
        let reads = Set(plan.units.filter(\.phase.reads))
        #expect(plan.after[WorkUnit(.pull, "shop", "customer")] == [])
        #expect(plan.after[WorkUnit(.pull, "shop", "order")] == [WorkUnit(.pull, "shop", "customer")])
        #expect(plan.after[WorkUnit(.pullDeletes, "shop")] == [WorkUnit(.pull, "shop", "customer"), WorkUnit(.pull, "shop", "order"),
                                                               WorkUnit(.pull, "shop", "ticket")])
        #expect(plan.after[WorkUnit(.push, "app", "customer")] == reads)
        #expect(plan.after[WorkUnit(.push, "shop", "ticket")] == reads.union([WorkUnit(.push, "shop", "customer")]))
        // Once the parent is pulled, both children are ready at once: two workers can take them.
        #expect(plan.ready(done: [WorkUnit(.pull, "shop", "customer"), WorkUnit(.pull, "app", "customer")])
                    == [WorkUnit(.pull, "shop", "order"), WorkUnit(.pull, "shop", "ticket")])
        #expect(Self.drain(plan).count == plan.units.count)
    }

    @Test("An order mapped without its customer is read beside the customers, but its deletes still go first; a system of one entity has no finishing steps")
    func unmappedReferences() throws {
        let plan = try Self.plan("""
            "shop": {"adapter": "jsonl", "entities": {"customer": \(Self.object("c")), "order": {"object": "o", "fields": {"number": "number"}}}},
            "feed": {"adapter": "jsonl", "direction": "pull", "entities": {"customer": \(Self.object("c"))}}
            """)
        #expect(plan.units.map(\.description) == [
            "pull-deletes:shop", "pull:feed/customer", "pull:shop/customer", "pull:shop/order",
            "push-deletes:shop", "push:shop/customer", "push:shop/order",
        ])
        #expect(plan.ready(done: []) == [WorkUnit(.pull, "feed", "customer"), WorkUnit(.pull, "shop", "customer"), WorkUnit(.pull, "shop", "order")])
        #expect(plan.after[WorkUnit(.push, "shop", "order")] == Set(plan.units.filter(\.phase.reads)))
    }

    @Test("Of two entities referring to each other, only the later waits for the earlier, and an entity referring to itself waits for nothing: every round can finish")
    func mutualReferencesDoNotDeadlock() throws {
        let plan = try Self.plan("""
            "hr": {"adapter": "jsonl", "entities": {"employee": \(Self.object("e")), "desk": \(Self.object("d"))}}
            """)
        let employee = WorkUnit(.pull, "hr", "employee"), desk = WorkUnit(.pull, "hr", "desk")
        #expect([plan.after[employee] ?? [], plan.after[desk] ?? []].filter(\.isEmpty).count == 1)
        #expect(plan.after[employee] == [desk] || plan.after[desk] == [employee])
        #expect(plan.units.contains(WorkUnit(.pullDeletes, "hr")))
        #expect(Self.drain(plan).count == plan.units.count)
    }
}

/// The units of a table read in parts (`"partitions"`).
@Suite struct WorkPlanPartitionTests {
    @Test("A table read in 3 parts pulls in 3 units side by side; its children wait for all 3, and the system's deletes follow every part")
    func partsOfAPull() throws {
        let plan = try WorkPlanTests.plan(#"""
            "db": {"adapter": "sqlite", "connection": {"path": "db.sqlite"}, "entities": {
              "customer": {"object": "customer", "fields": {"email": "email"}, "partitions": 3},
              "order": {"object": "order", "fields": {"number": "number", "customer": "customer"}}}}
            """#)
        let parts = IDPartition.all(3).map { WorkUnit(.pull, "db", "customer", partition: $0) }
        #expect(parts.map(\.description) == ["pull:db/customer/1of3", "pull:db/customer/2of3", "pull:db/customer/3of3"])
        #expect(parts.allSatisfy { plan.units.contains($0) })
        #expect(!plan.units.contains(WorkUnit(.pull, "db", "customer")))
        #expect(plan.after[WorkUnit(.pull, "db", "order")] == Set(parts))
        #expect(plan.ready(done: []).filter { $0.phase == .pull } == parts)
        let finish = WorkUnit(.pullDeletes, "db")
        #expect(plan.after[finish] == Set(parts + [WorkUnit(.pull, "db", "order")]))
        // Pushes are not split.
        #expect(plan.units.contains(WorkUnit(.push, "db", "customer")))
        #expect(plan.after[WorkUnit(.push, "db", "customer")]?.isSuperset(of: Set(parts + [finish])) == true)
    }

    @Test("A system whose only entity is read in parts gets a pull-deletes unit to look for its deletes")
    func aLoneEntityReadInPartsHasAFinishingStep() throws {
        let plan = try WorkPlanTests.plan(#"""
            "db": {"adapter": "postgres", "connection": {"url": "postgres://localhost/db"}, "entities": {
              "customer": {"object": "customer", "fields": {"email": "email"}, "partitions": 2}}}
            """#)
        #expect(plan.units.map(\.description) == [
            "pull-deletes:db", "pull:db/customer/1of2", "pull:db/customer/2of2", "push:db/customer",
        ])
    }

    @Test("A unit's key names its part and parses back; keys of other shapes do not parse", arguments: [
        ("pull:db/customer/2of4", true), ("pull:d%3Ab/cu%2Fstomer/4of4", true), ("pull:db/customer/5of4", false),
        ("pull:db/customer/0of4", false), ("pull:db/customer/1of1", false), ("push:db/customer/1of2", false),
        ("pull:db/customer/02of4", false), ("pull:db/customer/x", false),
    ])
    func keysRoundTrip(_ key: String, _ parses: Bool) {
        let unit = WorkUnit(key)
        #expect((unit != nil) == parses)
        if let unit { #expect(unit.description == key) }
    }

    @Test("Partitions are refused where a table is not read whole by ID: files, a cursor, a system only written to, 0 parts", arguments: [
        (#""adapter": "jsonl", "connection": {"path": "/tmp"}"#, #""partitions": 2"#, "'partitions' is for sqlite and postgres tables"),
        (#""adapter": "sqlite", "connection": {"path": "x.db"}"#, #""partitions": 2, "cursor": "updated_at""#, "reads by its cursor"),
        (#""adapter": "sqlite", "connection": {"path": "x.db"}, "direction": "push""#, #""partitions": 2"#, "only written to"),
        (#""adapter": "sqlite", "connection": {"path": "x.db"}"#, #""partitions": 0"#, "from 1 to 256"),
        (#""adapter": "sqlite", "connection": {"path": "x.db"}"#, #""partitions": "4""#, "expected an integer"),
    ])
    func refusedWhereNotReadWhole(_ system: String, _ mapping: String, _ message: String) {
        let json = #"""
            {"version": 1, "entities": {"customer": {"fields": {"email": {"type": "string"}}}},
             "systems": {"db": {\#(system), "entities": {"customer": {"object": "customer", "fields": {"email": "email"}, \#(mapping)}}}}}
            """#
        #expect(throws: (any Error).self) { try TopologyLoader.decode(json, baseDirectory: "/tmp", environment: [:]) }
        do {
            _ = try TopologyLoader.decode(json, baseDirectory: "/tmp", environment: [:])
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
