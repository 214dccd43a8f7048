import Foundation

/// Runs tasks on one thread of its own instead of Swift's cooperative pool.
///
/// Test servers run on it — their tasks, and as the serial executor of their actor, their state
/// too — so that they keep answering while tests block the (small) pool, for instance by
/// waiting synchronously for a `hubctl` process that talks to the server. The lock
/// (the condition) guards the job queue.
final class ThreadTaskExecutor: TaskExecutor, SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finishing = false

    init(name: String) {
        // The thread keeps the executor alive until `finish()`.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once no job is left.
    func finish() {
        condition.lock()
        finishing = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finishing { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        }
    }
}
