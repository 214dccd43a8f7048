import Foundation

/// The synced start every T3 sequence begins from, built once per test process and copied into
/// each sequence's folder: three customers (one in `app`, one created in `sheet` and `export`
/// at once, one in `billing`) and two orders, synced to every system.
actor ConvergenceStart {
    static let shared = ConvergenceStart()

    private var template: (dir: ScratchDirectory, state: ConvergenceModel.State)?

    /// Copies the start's systems and hub into `dir`; returns what the model knows of them.
    func copy(to dir: String) async throws -> ConvergenceModel.State {
        let (source, state) = try await start()
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(atPath: source.path + "/" + name, toPath: dir + "/" + name)
        }
        return state
    }

    /// Removes the start's folder (after the last sequence).
    func discard() { template = nil }

    private func start() async throws -> (ScratchDirectory, ConvergenceModel.State) {
        if let template { return template }
        let dir = try ScratchDirectory()
        let model = ConvergenceModel(world: try ConvergenceWorld.create(in: dir.path), kills: false)
        try model.createCustomer(in: [.app], 1, 2)
        try model.createCustomer(in: [.sheet, .export], 3, 4)
        try await model.sync("initial sync")
        try model.createOrder(.app, 0, 5)
        try model.createOrder(.billing, 1, 6)
        try model.createCustomer(in: [.billing], 5, 0)
        try await model.sync("initial sync")
        template = (dir, model.state)
        return (dir, model.state)
    }
}

extension ConvergenceModel {
    /// What the model knows right after a sync.
    struct State: Sendable {
        var customers: [String: Customer]
        var orders: [String: Order]
        var present: [String: Set<System>]
        var counter: Int
        var trace: [String]
    }

    var state: State { State(customers: customers, orders: orders, present: present, counter: counter, trace: trace) }

    /// A model over `world` (a copy of the start's files) in the state the start was left in.
    convenience init(world: ConvergenceWorld, kills: Bool, state: State) {
        self.init(world: world, kills: kills)
        customers = state.customers
        orders = state.orders
        present = state.present
        startCustomers = state.customers
        startOrders = state.orders
        counter = state.counter
        trace = state.trace
    }
}
