import Foundation

/// The time the use cases may read: the wall clock for ledger stamps, `Date` headers and the
/// lock's note, and a sleep for the rate limiter. Live: the system's; tests: a fixed or stepped
/// one, so that nothing reads the real time behind a use case's back.
public struct WallClock: Sendable {
  public var now: @Sendable () -> Date
  public var sleep: @Sendable (_ seconds: Double) -> Void

  public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Double) -> Void) {
    self.now = now
    self.sleep = sleep
  }

  public static let system = WallClock(
    now: { Date() }, sleep: { if $0 > 0 { Thread.sleep(forTimeInterval: $0) } })

  /// Always `date`; sleeping does not pass time.
  public static func fixed(_ date: Date) -> WallClock {
    WallClock(now: { date }, sleep: { _ in })
  }
}
