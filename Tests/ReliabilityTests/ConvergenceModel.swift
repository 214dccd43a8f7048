import Foundation
import HubCore
import HubSync

/// The model of T3: what every system must hold once a sequence of edits has been synced.
///
/// The rules are the documented ones, kept simple: every live customer and order is in every
/// system; a field edited in one place between two syncs takes that value; a field edited in
/// several places takes the value of the system first in the priority list (`app`, `billing`,
/// `sheet`, `export`) and the others' edits are *expected conflicts*, which the hub must record;
/// a deleted record is deleted everywhere, except a customer that orders still refer to, which
/// `on_referenced_delete: restore` keeps (re-created in the system that deleted it); a system
/// whose file is moved away takes no part until it is back, and loses nothing.
///
/// Steps are applied to the real systems and to the model together (``apply(_:)``); a crash
/// or failure injected into a sync is followed by a recovery run, after which the model's state
/// must hold again.
final class ConvergenceModel {
    typealias System = ConvergenceWorld.System
    typealias Field = ConvergenceWorld.CustomerField

    struct Customer: Equatable {
        var values: [Field: String] = [:]
    }

    struct Order: Equatable {
        var customer: String
        var amount: Int
    }

    static let firsts = ["Ann", "Bob", "Cleo", "Dan", "Eli", "Fay", "Gus"]
    static let lasts = ["Archer", "Baker", "van Dyke", "Egan", "Egan-Fix", "de la Cruz", "Ng"]
    static let tiers = ["gold", "silver", "bronze"]
    static let prefs = [#"{"newsletter":true}"#, #"{"sms":false}"#, #"{"lang":"de","sms":true}"#,
                        #"{"newsletter":false,"tags":["a","b"]}"#]

    let world: ConvergenceWorld
    /// How a sync step runs: in this process (faults thrown), or as `hubctl` killed at a fault.
    let kills: Bool

    var customers: [String: Customer] = [:]
    var orders: [String: Order] = [:]
    /// The systems holding each record (`c:email`, `o:number`).
    var present: [String: Set<System>] = [:]
    var away: Set<System> = []
    /// Systems back from away that have not been synced yet.
    var stale: Set<System> = []

    // The window: what happened since the last sync.
    var startCustomers: [String: Customer] = [:]
    var startOrders: [String: Order] = [:]
    /// The strongest edit of each `key|field` in the window, and every value edited there.
    var edits: [String: (system: System, value: String)] = [:]
    var editedValues: [String: Set<String>] = [:]
    var touched: Set<String> = []
    var locked: Set<String> = []
    var active: Set<System> = []
    var deletes: [String: Int] = [:]

    /// Every `key|field` an edit reached, and the expected conflicts (losing edits).
    var everEdited: Set<String> = []
    var expectedConflicts: [(key: String, field: String)] = []

    var figures = ConvergenceFigures()
    var trace: [String] = []
    var counter = 0

    init(world: ConvergenceWorld, kills: Bool) {
        self.world = world
        self.kills = kills
    }

    var fresh: [System] { System.allCases.filter { !away.contains($0) && !stale.contains($0) } }

    // MARK: - Steps

    /// Applies one generated step to the systems and the model.
    func apply(_ step: ConvergenceStep) async throws {
        let systems = fresh
        guard !systems.isEmpty else {
            if step.kind >= 78 { try await syncStep(step) }
            return
        }
        let s = systems[step.a % systems.count]
        let other = systems[(step.a / 4 + 1 + systems.firstIndex(of: s)!) % systems.count]
        switch step.kind {
        case 0..<12: try createCustomer(in: [s], step.b, step.c)
        case 12..<16: try createCustomer(in: s == other ? [s] : [s, other], step.b, step.c)
        case 16..<26: try createOrder(s, step.b, step.c)
        case 26..<44: try editCustomer(s, step.b, step.c, step.c / 4)
        case 44..<52:
            // The same field edited in two systems between syncs.
            try editCustomer(s, step.b, step.c, step.c / 4)
            if s != other { try editCustomer(other, step.b, step.c, step.c / 4 + 1) }
        case 52..<58: try editOrder(s, step.b, step.c)
        case 58..<65: try changeReference(s, step.b, step.c)
        case 65..<71: try deleteCustomer(s, step.b)
        case 71..<76: try deleteOrder(s, step.b)
        case 76..<80: try moveOrRestore(System.allCases[step.a % 4])
        default: try await syncStep(step)
        }
    }

    func note(_ text: String) {
        trace.append(text)
        figures[.operations] += 1
        if Self.live { FileHandle.standardError.write(Data("T3 \(Date()) \(text)\n".utf8)) }
    }

    /// `HUBCTL_T3_TRACE=1` prints every operation as it happens.
    static let live = ProcessInfo.processInfo.environment["HUBCTL_T3_TRACE"] != nil

    /// SQLite gives a new row the rowid of a row deleted since the last sync, which no reader
    /// can tell from an edit of that row (docs/reliability.md, honest limits): no create follows
    /// a delete of the same kind in a SQLite system between two syncs.
    func reusesRowid(_ s: System, _ entity: ConvergenceWorld.Entity) -> Bool {
        (s == .app || s == .billing) && deletes["\(s)|\(entity.rawValue)", default: 0] > 0
    }

    func createCustomer(in systems: [System], _ b: Int, _ c: Int) throws {
        guard !systems.contains(where: { reusesRowid($0, .customer) }) else { return }
        counter += 1
        let email = "c\(counter)@example.com"
        var customer = Customer()
        let all: [Field: String] = [.first: Self.firsts[b % Self.firsts.count], .last: Self.lasts[c % Self.lasts.count],
                                    .tier: Self.tiers[(b + c) % 3], .prefs: Self.prefs[(b * c) % Self.prefs.count]]
        for (i, system) in systems.enumerated() {
            var values: [Field: String] = [:]
            for field in system.customerFields { values[field] = all[field] }
            // The second system spells the email its own way; the hub matches it normalised.
            try world.insert(system, .customer, columns(system, email: i == 0 ? email : email.uppercased() + " ", values),
                             fresh: "\(system.rawValue)-c\(counter)")
            customer.values.merge(values) { a, _ in a }
            active.insert(system)
            // Created in several systems at once: each one's values count as its edits, so a
            // later edit in a weaker one in the same window loses to the stronger one's value.
            if systems.count > 1 {
                for (field, value) in values {
                    let k = "c:\(email)|\(field.rawValue)"
                    editedValues[k + "|" + system.rawValue] = [value]
                    if edits[k].map({ system < $0.system }) ?? true { edits[k] = (system, value) }
                }
            }
        }
        customers[email] = customer
        present["c:" + email] = Set(systems)
        touched.insert("c:" + email)
        let shown = Field.allCases.compactMap { f in customer.values[f].map { "\(f.rawValue)=\($0)" } }.joined(separator: " ")
        note("create customer \(email) in \(systems.map(\.rawValue).joined(separator: "+")) \(shown)")
    }

    func createOrder(_ s: System, _ b: Int, _ c: Int) throws {
        guard let email = pick(customers.keys, b, where: { self.isPresent("c:" + $0, s) && !self.locked.contains("c:" + $0) }),
              let customerID = try id(s, .customer, email), !reusesRowid(s, .order) else { return }
        counter += 1
        let number = "O-\(counter)"
        let amount = 1 + (c * 37 + b) % 500
        try world.insert(s, .order, orderColumns(s, number: number, customerID: customerID, amount: amount), fresh: "\(s.rawValue)-o\(counter)")
        orders[number] = Order(customer: email, amount: amount)
        present["o:" + number] = [s]
        touched.formUnion(["o:" + number, "c:" + email])
        active.insert(s)
        note("create order \(number) → \(email) amount \(amount) in \(s)")
    }

    func editCustomer(_ s: System, _ b: Int, _ fieldChoice: Int, _ valueChoice: Int) throws {
        guard let email = pick(customers.keys, b, where: { self.isPresent("c:" + $0, s) && !self.locked.contains("c:" + $0) })
        else { return }
        let field = s.customerFields[fieldChoice % s.customerFields.count]
        let key = "c:" + email
        // A composite system's text changes one part per sync, or the split would be a guess.
        if s.joinsNames, field == .first || field == .last {
            let otherPart: Field = field == .first ? .last : .first
            if edits[key + "|" + otherPart.rawValue]?.system == s || editedValues[key + "|" + otherPart.rawValue + "|" + s.rawValue] != nil {
                return
            }
        }
        let domain: [String] = switch field {
        case .first: Self.firsts
        case .last: Self.lasts
        case .tier: Self.tiers
        case .prefs: Self.prefs.map(ConvergenceWorld.canonicalJSON(text:))
        }
        guard let value = newValue(key, field.rawValue, start: startCustomers[email]?.values[field], domain, valueChoice) else { return }
        // What the system holds now: its values at the window's start (or as created), with this edit.
        var held = startCustomers[email]?.values ?? customers[email]!.values
        for f in Field.allCases {
            if let own = editedValues[key + "|" + f.rawValue + "|" + s.rawValue]?.first { held[f] = own }
        }
        held[field] = value
        var values: [Field: String] = [:]
        for f in s.customerFields { values[f] = held[f] }
        // Only the edited column is written (for a composite: the joined text with the other part as held).
        let cols = columns(s, email: nil, values).filter { $0.key == Self.column(s, field) }
        guard let rowID = try id(s, .customer, email) else { return }
        try world.update(s, .customer, id: rowID, cols)
        editedValues[key + "|" + field.rawValue + "|" + s.rawValue] = [value]
        record(edit: key, field.rawValue, by: s, value) { self.customers[email]!.values[field] = value }
        note("edit customer \(email) \(field.rawValue) = \(value) in \(s)")
    }

    func editOrder(_ s: System, _ b: Int, _ c: Int) throws {
        guard let number = pick(orders.keys, b, where: { self.isPresent("o:" + $0, s) && !self.locked.contains("o:" + $0) }),
              let amount = newValue("o:" + number, "amount", start: startOrders[number].map { String($0.amount) },
                                    (0..<8).map { String(10 + ($0 * 113 + b) % 900) }, c).flatMap(Int.init),
              let rowID = try id(s, .order, number) else { return }
        let column = s == .sheet ? "Amount" : "amount"
        try world.update(s, .order, id: rowID, [column: String(amount)])
        record(edit: "o:" + number, "amount", by: s, String(amount)) { self.orders[number]!.amount = amount }
        note("edit order \(number) amount = \(amount) in \(s)")
    }

    func changeReference(_ s: System, _ b: Int, _ c: Int) throws {
        guard let number = pick(orders.keys, b, where: { self.isPresent("o:" + $0, s) && !self.locked.contains("o:" + $0) })
        else { return }
        let held = edits["o:\(number)|customer"].flatMap { $0.system == s ? $0.value : nil }
            ?? startOrders[number]?.customer ?? orders[number]!.customer
        guard let email = newValue("o:" + number, "customer", start: startOrders[number]?.customer, except: held,
                                   customers.keys.filter { self.isPresent("c:" + $0, s) && !self.locked.contains("c:" + $0) }.sorted(), c),
              let rowID = try id(s, .order, number), let customerID = try id(s, .customer, email) else { return }
        try world.update(s, .order, id: rowID, [ConvergenceWorld.referenceColumn(s): customerID])
        touched.formUnion(["c:" + email, "c:" + held, "c:" + orders[number]!.customer])
        record(edit: "o:" + number, "customer", by: s, email) { self.orders[number]!.customer = email }
        note("point order \(number) at \(email) in \(s)")
    }

    func deleteCustomer(_ s: System, _ b: Int) throws {
        let refers = { (email: String) in self.orders.filter { $0.value.customer == email }.map { "o:" + $0.key } }
        guard canDelete(s, .customer), let email = pick(startCustomers.keys, b, where: { email in
            self.customers[email] != nil && self.isPresent("c:" + email, s) && !self.touched.contains("c:" + email)
                && !self.locked.contains("c:" + email) && refers(email).allSatisfy { !self.touched.contains($0) && !self.locked.contains($0) }
        }), let rowID = try id(s, .customer, email) else { return }
        try world.delete(s, .customer, id: rowID)
        deletes["\(s)|customer", default: 0] += 1
        active.insert(s)
        let referrers = refers(email)
        locked.formUnion(["c:" + email] + referrers)
        if referrers.isEmpty {
            customers[email] = nil
            note("delete customer \(email) in \(s)")
        } else {
            // on_referenced_delete: restore — the customer is re-created in s; nothing else changes.
            note("delete customer \(email) in \(s) (referred to by \(referrers.count) orders: restored)")
        }
    }

    func deleteOrder(_ s: System, _ b: Int) throws {
        guard canDelete(s, .order), let number = pick(startOrders.keys, b, where: { number in
            self.orders[number] != nil && self.isPresent("o:" + number, s) && !self.touched.contains("o:" + number)
                && !self.locked.contains("o:" + number)
        }), let rowID = try id(s, .order, number) else { return }
        try world.delete(s, .order, id: rowID)
        deletes["\(s)|order", default: 0] += 1
        active.insert(s)
        locked.formUnion(["o:" + number, "c:" + orders[number]!.customer])
        orders[number] = nil
        note("delete order \(number) in \(s)")
    }

    /// Deletes stay well inside the mass-delete guard: at most 3 per system and entity between
    /// syncs, and never the system's last 2 linked records.
    func canDelete(_ s: System, _ entity: ConvergenceWorld.Entity) -> Bool {
        let done = deletes["\(s)|\(entity.rawValue)", default: 0]
        let linked = entity == .customer ? startCustomers.count : startOrders.count
        return done < 3 && linked - done > 2
    }

    func moveOrRestore(_ s: System) throws {
        if away.contains(s) {
            try world.restore(s)
            away.remove(s)
            stale.insert(s)
            note("put \(s.movable) back")
        } else if !active.contains(s), !stale.contains(s), away.count < 2 {
            try world.moveAway(s)
            away.insert(s)
            note("move \(s.movable) away")
        }
    }

    // MARK: - Syncs

    func syncStep(_ step: ConvergenceStep) async throws {
        let points = FaultPoint.allCases
        if step.a % 3 == 0 {
            let point = points[step.b % points.count], hit = 1 + step.c % 3
            if kills {
                let run = try world.killedSync(at: point, hit: hit)
                if run.killedBySignal { figures[.kills] += 1; figures[.faultsFired] += 1 }
                note("sync-all killed at \(point.rawValue)@\(hit) (\(run.killedBySignal ? "killed" : "exit \(run.exitCode)"))")
            } else {
                let report = try await world.sync(fault: (point, hit))
                let fired = report.map { $0.systemErrors.values.contains { $0.contains("injected fault") } } ?? true
                if fired { figures[.faultsFired] += 1 }
                note("sync with \(point.rawValue)@\(hit) thrown (\(fired ? "fired" : "not reached"))")
            }
            figures[.syncs] += 1
        }
        try await sync("sync")
    }

    /// A plain sync; the window closes and every system not away holds every live record.
    func sync(_ label: String) async throws {
        let report = try await world.sync()
        figures[.syncs] += 1
        let failed = report?.systemErrors.keys.map(\.rawValue).sorted() ?? []
        note("\(label)\(failed.isEmpty ? "" : " (failed: \(failed.joined(separator: ", ")))")")
        stale = []
        for key in present.keys { present[key] = Set(System.allCases.filter { !away.contains($0) }) }
        startCustomers = customers
        startOrders = orders
        edits = [:]
        editedValues = [:]
        touched = []
        locked = []
        active = []
        deletes = [:]
    }

    /// Puts every file back and runs the two quiet syncs; returns the writes of the last one.
    func settle() async throws -> Int {
        for s in away.sorted() { try moveOrRestore(s) }
        try await sync("settle")
        let before = try world.writeState()
        let report = try await world.sync()
        figures[.syncs] += 1
        let after = try world.writeState()
        let pushed = report?.totals.push
        let reported = (pushed?.created ?? 0) + (pushed?.updated ?? 0) + (pushed?.deleted ?? 0)
        var writes = zip(before, after).filter { $0 != $1 }.count
        if writes == 0, reported > 0 { writes = reported }
        if writes > 0 { trace.append("last sync wrote: \(reported) reported, files/tables changed: \(zip(before, after).filter { $0 != $1 }.count)") }
        return writes
    }

    // MARK: - Helpers

    func isPresent(_ key: String, _ s: System) -> Bool { present[key]?.contains(s) ?? false }

    func pick(_ keys: some Collection<String>, _ n: Int, where ok: (String) -> Bool) -> String? {
        let eligible = keys.filter(ok).sorted()
        return eligible.isEmpty ? nil : eligible[n % eligible.count]
    }

    /// A value for `key|field` that differs from the window's start and every value edited in
    /// the window (so each edit is a real change in its system).
    func newValue(_ key: String, _ field: String, start: String?, except: String? = nil, _ domain: [String], _ n: Int) -> String? {
        let taken = editedValues.filter { $0.key.hasPrefix(key + "|" + field + "|") }.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        let candidates = domain.filter { $0 != start && $0 != except && !taken.contains($0) }
        return candidates.isEmpty ? nil : candidates[n % candidates.count]
    }

    /// Records an edit: the strongest system's value wins; a weaker one's is an expected conflict.
    func record(edit key: String, _ field: String, by s: System, _ value: String, apply: () -> Void) {
        let k = key + "|" + field
        editedValues[k + "|" + s.rawValue] = [value]
        touched.insert(key)
        active.insert(s)
        everEdited.insert(k)
        if let previous = edits[k], previous.system != s {
            if s < previous.system {
                expectedConflicts.append((key, field))
                edits[k] = (s, value)
                apply()
            } else {
                expectedConflicts.append((key, field))
            }
        } else {
            edits[k] = (s, value)
            apply()
        }
    }

    /// The row ID of a record in a system, found by its key.
    func id(_ s: System, _ entity: ConvergenceWorld.Entity, _ key: String) throws -> String? {
        let column = world.object(s, entity).key
        return try world.rows(s, entity).first { row in
            ((row.columns[column] ?? nil) ?? "").trimmingCharacters(in: .whitespaces).lowercased() == key.lowercased()
        }?.id
    }

    static func column(_ s: System, _ field: Field) -> String {
        switch (s, field) {
        case (.billing, .tier): "tier_code"
        case (.billing, .first), (.billing, .last): "full_name"
        case (.export, .first), (.export, .last): "name"
        case (.sheet, .first): "First"
        case (.sheet, .last): "Last"
        case (.sheet, .tier): "Tier"
        default: field.rawValue
        }
    }

    /// A customer's columns in a system (the email column too when given).
    func columns(_ s: System, email: String?, _ values: [Field: String]) -> [String: String?] {
        var out: [String: String?] = [:]
        if let email { out[world.object(s, .customer).key] = email }
        for field in s.customerFields {
            var value = values[field]
            if field == .tier, s == .billing { value = value.map { ConvergenceWorld.tierCodes[$0] ?? $0 } }
            if s.joinsNames, field == .first || field == .last {
                value = Self.join(values[.first], values[.last])
            }
            out[Self.column(s, field)] = .some(value)
        }
        return out
    }

    func orderColumns(_ s: System, number: String, customerID: String, amount: Int) -> [String: String?] {
        s == .sheet ? ["Number": number, "Customer": customerID, "Amount": String(amount)]
            : ["number": number, ConvergenceWorld.referenceColumn(s): customerID, "amount": String(amount)]
    }

    static func join(_ first: String?, _ last: String?) -> String? {
        let parts = [first, last].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}
