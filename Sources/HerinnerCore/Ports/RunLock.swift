import Synchronization

/// Keeps two runs that write deliveries (`send`, `resend`) off one ledger. Today an `flock` on
/// `<ledger>.lock`; a shared database would hold a lease instead.
///
/// Semantics: `acquire` either takes the lock for as long as this object lives (or until
/// `release`), or throws `RunLockHeld` naming the holder. A crashed holder never keeps it.
public protocol RunLock: AnyObject {
  func acquire() throws
  func release()
}

/// Another run holds the lock.
public struct RunLockHeld: Error, Sendable, CustomStringConvertible {
  /// Where the lock lives (`<ledger>.lock`).
  public var place: String
  /// Who holds it, as the holder wrote it ("pid 4711 since …").
  public var holder: String
  public init(place: String, holder: String) {
    self.place = place
    self.holder = holder
  }
  public var description: String {
    "another herinner send holds the lock \(place) (\(holder)); not sending"
  }
}

/// The lock within one process, for tests.
public final class MemoryRunLock: RunLock, Sendable {
  private let held = Mutex(false)
  public init() {}
  public func acquire() throws {
    try held.withLock { (held: inout Bool) throws -> Void in
      if held { throw RunLockHeld(place: "memory", holder: "this process") }
      held = true
    }
  }
  public func release() { held.withLock { $0 = false } }
}
