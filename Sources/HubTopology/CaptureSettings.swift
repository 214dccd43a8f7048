import Foundation

/// A PostgreSQL system's change capture: `"capture": {"notify": true}`. Present at all (even
/// `{}`), it makes the system's tables read through the change log `hubctl capture install`
/// creates, gap-safely by transaction snapshot, instead of by their cursor column.
///
/// With `notify`, `run` listens on the `hubctl_changes` channel that the triggers of
/// `hubctl capture install` notify, and wakes the system on each notification (bursts within
/// `debounce` wake it once). Notifications are hints: the read starts from the stored position, and the
/// schedule still reads the system when a notification is lost.
public struct CaptureSettings: Sendable, Hashable {
    /// Listen for notifications.
    public var notify: Bool
    /// Notifications within this window wake the system once.
    public var debounce: TimeInterval

    public init(notify: Bool, debounce: TimeInterval = 0.1) {
        self.notify = notify
        self.debounce = debounce
    }
}
