/// What a returned message says, as the ledger keeps it (`bounces import`, `bounces fetch`).
public enum BounceRecordKind: String, Sendable, Hashable, CaseIterable, Codable {
  /// Final: not delivered and no longer retried (RFC 3464 `Action: failed`).
  case hard
  /// Delayed, still being retried (RFC 3464 `Action: delayed`).
  case soft
  /// An automatic answer (RFC 3834): the reminder did arrive.
  case autoReply = "auto-reply"
  case notABounce = "not-a-bounce"
}

/// One report read, to be recorded once.
public struct NewBounce: Sendable, Hashable {
  /// Stable for the same message (a hash of its bytes): a report seen before changes nothing.
  public var reportID: String
  /// The delivery it answers (its `messageKey`), nil when it matched none of ours.
  public var messageKey: String?
  public var kind: BounceRecordKind
  /// The RFC 3463 status code, e.g. `5.1.1`.
  public var status: String?
  public var recipient: String?
  public var diagnostic: String?
  /// The report's own date.
  public var reportDate: CalendarDate?
  /// Where it was read: a file path or `imap:<mailbox>/<uid>`.
  public var source: String

  public init(
    reportID: String, messageKey: String?, kind: BounceRecordKind, status: String? = nil,
    recipient: String? = nil, diagnostic: String? = nil, reportDate: CalendarDate? = nil,
    source: String
  ) {
    self.reportID = reportID
    self.messageKey = messageKey
    self.kind = kind
    self.status = status
    self.recipient = recipient
    self.diagnostic = diagnostic
    self.reportDate = reportDate
    self.source = source
  }
}

/// One recorded report.
public struct BounceRow: Sendable, Hashable {
  public var id: Int64
  public var bounce: NewBounce
  /// The soft report that made the delivery `bounced` because the server kept failing.
  public var countedAsHard: Bool
  public var createdAt: String

  public init(id: Int64, bounce: NewBounce, countedAsHard: Bool, createdAt: String) {
    self.id = id
    self.bounce = bounce
    self.countedAsHard = countedAsHard
    self.createdAt = createdAt
  }
}

/// What recording one report did.
public enum BounceOutcome: Sendable, Hashable {
  /// The same report was recorded before: nothing changed.
  case alreadyRecorded
  /// Recorded; no delivery changed (soft, auto-reply, unmatched, or already bounced).
  case noted
  /// Recorded, and these delivery rows (every invoice of the message) are now `bounced`.
  case bounced([DeliveryRow])
}

/// Where `bounces fetch` stopped in an IMAP mailbox (RFC 3501 §2.3.1.1: UIDs are only
/// comparable under one UIDVALIDITY).
public struct MailboxCursor: Sendable, Hashable {
  public var uidValidity: UInt32
  public var lastUID: UInt32
  public init(uidValidity: UInt32, lastUID: UInt32) {
    self.uidValidity = uidValidity
    self.lastUID = lastUID
  }
}

/// The returned mail the ledger knows. Semantics every implementation keeps (the port-level
/// suite in Tests/HerinnerLedgerTests holds SQLite and the in-memory twin to them):
/// - a report is recorded once: the same `reportID` again changes nothing;
/// - recording and its effect on the deliveries are one transaction;
/// - a hard report turns every `sent` or `unknown` row of its message `bounced`; a soft one
///   changes no delivery unless `BounceRule.countsAsHard` says the server has given up;
/// - rows come back in the order they were recorded.
public protocol BounceStore: AnyObject {
  func recordBounce(_ bounce: NewBounce) throws -> BounceOutcome
  /// Every report, in order, or those that answer the deliveries of one invoice.
  func bounces(invoice: String?) throws -> [BounceRow]
  /// The stored position in a mailbox, named as configured (its URL).
  func mailboxCursor(_ mailbox: String) throws -> MailboxCursor?
  func saveMailboxCursor(_ cursor: MailboxCursor, for mailbox: String) throws
}

/// When a delivery counts as bounced. Pure, shared by every backend.
public enum BounceRule {
  /// Soft reports on this many different days mean the server is not getting through: a
  /// reminder that still has not arrived after days is treated as not delivered (servers give
  /// up after 4–5 days, RFC 5321 §4.5.4.1).
  public static let softDaysThatCountAsHard = 3

  /// Whether recording `bounce` makes its delivery `bounced`, given the report days of the soft
  /// reports on the same message already recorded.
  public static func countsAsHard(_ bounce: NewBounce, earlierSoftDays: Set<CalendarDate>) -> Bool {
    switch bounce.kind {
    case .hard: return true
    case .soft:
      var days = earlierSoftDays
      if let d = bounce.reportDate { days.insert(d) }
      return days.count >= softDaysThatCountAsHard
    case .autoReply, .notABounce: return false
    }
  }

  /// The delivery states a report can turn `bounced`: those that may have reached the server.
  public static let bounceable: Set<DeliveryState> = [.sent, .unknown]
}
