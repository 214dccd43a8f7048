/// Creates that a spoke applies to an object in one write at the end of a push, instead of one
/// write per batch: a file spoke, which can only replace a file whole, streams the file once
/// per run however many batches the creates come in.
///
/// The engine records each batch's create intents before it stages the batch and links the
/// records only after ``commit()`` succeeded; a run stopped in between leaves the intents open,
/// and the next run settles them with `lookupCreated` (found: linked; not there: sent again).
/// So every staged create must be findable by `lookupCreated` with its key once committed.
public protocol StagedCreates: AnyObject, Sendable {
    /// Stages a batch of creates, each with its key as the new record's ID (a create whose key
    /// is already a record's ID is that record). Returns false, staging nothing, when the
    /// batch cannot be staged (it holds another write, a create whose fields set another ID,
    /// or needs what is already staged to change): the caller commits what is staged and
    /// writes the batch with ``Spoke/write(_:_:)``.
    func stage(_ writes: [SpokeWrite]) async throws -> Bool

    /// Applies everything staged in one step: all of it or, when it throws, none of it.
    func commit() async throws

    /// Drops what is staged; the object is left as it was.
    func discard() async
}
