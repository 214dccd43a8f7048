import HubCore
import HubStore
import HubTopology

extension WorkPlan {
    /// A topology's units and the order a round does them in:
    ///
    /// - `pull:S/E` for every entity E mapped in a system S that is read, after the pulls of E's
    ///   parents in S (so the records E refers to are linked when E is merged, as `sync-all`
    ///   reads them in reference order); a table read in N parts (`"partitions"`) has N units
    ///   `pull:S/E/1ofN` … `pull:S/E/NofN` instead, side by side;
    /// - `pull-deletes:S` for a system where one entity refers to another or is read in parts,
    ///   after every pull of S: it applies the deletes those pulls found (and looks for the
    ///   deletes of the tables read in parts), children first;
    /// - `push:S/E` for every entity mapped in a system that is written, after every unit above
    ///   (the barrier: a push sends what every pull brought in) and after the pushes of E's
    ///   parents in S (so a new record's references find their targets there);
    /// - `push-deletes:S` for a system where one entity refers to another, after every push of S:
    ///   it sends the deletes that waited for the records referring to them.
    public init(_ topology: Topology) {
        var units: [WorkUnit] = []
        var after: [WorkUnit: Set<WorkUnit>] = [:]
        func add(_ phase: WorkUnit.Phase, _ system: SystemDefinition, barrier: Set<WorkUnit>) {
            let entities = topology.referenceOrder.filter { system.mapping(for: $0) != nil }
            var own: Set<WorkUnit> = []
            // A pull of a table read in parts is one unit per part.
            func parts(_ entity: EntityName) -> [WorkUnit] {
                guard phase == .pull, let count = system.mapping(for: entity)?.partitions, count > 1 else {
                    return [WorkUnit(phase, system.name, entity)]
                }
                return IDPartition.all(count).map { WorkUnit(phase, system.name, entity, partition: $0) }
            }
            for entity in entities {
                let parents = topology.parents(of: entity, in: system.name).flatMap(parts)
                for unit in parts(entity) {
                    after[unit] = barrier.union(parents)
                    units.append(unit)
                    own.insert(unit)
                }
            }
            let partitioned = phase == .pull && entities.contains { (system.mapping(for: $0)?.partitions ?? 1) > 1 }
            guard partitioned || entities.contains(where: { !topology.referrers(of: $0, in: system.name).isEmpty }) else { return }
            let finish = WorkUnit(phase == .pull ? .pullDeletes : .pushDeletes, system.name)
            after[finish] = barrier.union(own)
            units.append(finish)
        }
        for system in topology.systems where system.direction.pulls { add(.pull, system, barrier: []) }
        let reads = Set(units)
        for system in topology.systems where system.direction.pushes { add(.push, system, barrier: reads) }
        // Claims prefer units by key (`pull:app/…` before `pull:crm/…`), as whole-system units were.
        self.init(units: units.sorted(), after: after)
    }
}
