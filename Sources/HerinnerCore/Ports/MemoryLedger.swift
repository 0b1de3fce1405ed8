import Foundation
import Synchronization

/// The ledger in memory: the second implementation of the port, held to the same port-level
/// test suite as the SQLite one, and what the use cases' unit tests run on. Also what a dry run
/// reads when there is no ledger file yet (an empty history writes nothing).
public final class MemoryLedger: LedgerStore, BounceStore, Sendable {
  struct State {
    var deliveries: [DeliveryRow] = []
    var calls: [CallRow] = []
    var nextID: Int64 = 1
    var bounces: [BounceRow] = []
    var cursors: [String: MailboxCursor] = [:]
  }
  private let state = Mutex(State())
  private let clock: WallClock
  /// Statements, credits and allocations (the payments tables' twin).
  let paymentStore = MemoryPayments()

  public init(clock: WallClock = .system) { self.clock = clock }

  private func stamp() -> String { LedgerTimestamp.string(clock.now()) }

  // MARK: Recording (DeliveryLedger)

  public func begin(_ attempts: [NewAttempt]) throws {
    try commit(finishing: [], beginning: attempts)
  }

  public func finish(_ results: [DeliveryResult]) throws {
    try commit(finishing: results, beginning: [])
  }

  public func commit(finishing results: [DeliveryResult], beginning attempts: [NewAttempt]) throws {
    let now = stamp()
    try state.withLock { (s: inout State) throws -> Void in
      var next = s  // all or none, as one transaction
      for r in results {
        for i in next.deliveries.indices where next.deliveries[i].messageKey == r.messageKey {
          next.deliveries[i].state = r.state
          next.deliveries[i].replyCode = r.replyCode
          next.deliveries[i].reply = r.reply
          next.deliveries[i].archivePath = r.archivePath
          next.deliveries[i].updatedAt = now
        }
      }
      for a in attempts {
        for inv in a.invoices {
          if !a.isResend,
            next.deliveries.contains(where: {
              $0.invoice == inv && $0.step == a.step && !$0.isResend && $0.state.isLive
            })
          {
            throw LedgerError.duplicate(invoice: inv, step: a.step)
          }
          next.deliveries.append(
            DeliveryRow(
              id: next.nextID, messageKey: a.messageKey, invoice: inv, step: a.step,
              state: .sending, isResend: a.isResend, runDate: a.runDate, deadline: a.deadline,
              costs: a.costs, recipients: a.recipients.joined(separator: ", "),
              messageID: a.messageID, inReplyTo: a.inReplyTo, replyCode: nil, reply: nil,
              archivePath: a.archivePath, createdAt: now, updatedAt: now))
          next.nextID += 1
        }
      }
      s = next
    }
  }

  public func abandon(_ messageKeys: [String]) throws {
    let keys = Set(messageKeys)
    state.withLock { s in
      s.deliveries.removeAll { keys.contains($0.messageKey) && $0.state == .sending }
    }
  }

  // MARK: Reading and resolving (DeliveryStore)

  public func deliveries(invoice: String?) throws -> [DeliveryRow] {
    state.withLock { s in s.deliveries.filter { invoice == nil || $0.invoice == invoice } }
  }

  public func deliveries(state wanted: DeliveryState) throws -> [DeliveryRow] {
    state.withLock { s in s.deliveries.filter { $0.state == wanted } }
  }

  public func markInterruptedAsUnknown() throws -> [DeliveryRow] {
    let now = stamp()
    return state.withLock { s in
      var out: [DeliveryRow] = []
      for i in s.deliveries.indices where s.deliveries[i].state == .sending {
        s.deliveries[i].state = .unknown
        s.deliveries[i].reply = s.deliveries[i].reply ?? LedgerText.interrupted
        s.deliveries[i].updatedAt = now
        out.append(s.deliveries[i])
      }
      return out
    }
  }

  @discardableResult
  public func resolve(invoice: String, step: Step, sent: Bool) throws -> Int {
    let now = stamp()
    return state.withLock { s in
      var changed = 0
      for i in s.deliveries.indices
      where s.deliveries[i].invoice == invoice && s.deliveries[i].step == step
        && DeliveryState.resolvable(sent: sent).contains(s.deliveries[i].state)
      {
        s.deliveries[i].reply = (s.deliveries[i].reply ?? "") + LedgerText.resolved(sent: sent)
        s.deliveries[i].state = sent ? .sent : .notSent
        s.deliveries[i].updatedAt = now
        changed += 1
      }
      return changed
    }
  }

  // MARK: Calls (CallLog)

  public func recordCall(invoice: String, date: CalendarDate, note: String) throws {
    let now = stamp()
    state.withLock { s in
      s.calls.append(
        CallRow(id: s.nextID, invoice: invoice, date: date, note: note, createdAt: now))
      s.nextID += 1
    }
  }

  public func calls(invoice: String?) throws -> [CallRow] {
    state.withLock { s in s.calls.filter { invoice == nil || $0.invoice == invoice } }
  }
}

// MARK: Returned mail (BounceStore)

extension MemoryLedger {
  public func recordBounce(_ bounce: NewBounce) throws -> BounceOutcome {
    let now = stamp()
    return state.withLock { s in
      if s.bounces.contains(where: { $0.bounce.reportID == bounce.reportID }) {
        return .alreadyRecorded
      }
      var earlier = Set<CalendarDate>()
      if let key = bounce.messageKey {
        for b in s.bounces where b.bounce.messageKey == key && b.bounce.kind == .soft {
          if let d = b.bounce.reportDate { earlier.insert(d) }
        }
      }
      let final =
        bounce.messageKey != nil && BounceRule.countsAsHard(bounce, earlierSoftDays: earlier)
      var changed: [DeliveryRow] = []
      if final, let key = bounce.messageKey {
        for i in s.deliveries.indices
        where s.deliveries[i].messageKey == key
          && BounceRule.bounceable.contains(s.deliveries[i].state)
        {
          s.deliveries[i].state = .bounced
          s.deliveries[i].updatedAt = now
          changed.append(s.deliveries[i])
        }
      }
      s.bounces.append(
        BounceRow(
          id: s.nextID, bounce: bounce,
          countedAsHard: bounce.kind == .soft && !changed.isEmpty, createdAt: now))
      s.nextID += 1
      return changed.isEmpty ? .noted : .bounced(changed)
    }
  }

  public func bounces(invoice: String?) throws -> [BounceRow] {
    state.withLock { s in
      guard let invoice else { return s.bounces }
      let keys = Set(s.deliveries.filter { $0.invoice == invoice }.map(\.messageKey))
      return s.bounces.filter { $0.bounce.messageKey.map(keys.contains) ?? false }
    }
  }

  public func mailboxCursor(_ mailbox: String) throws -> MailboxCursor? {
    state.withLock { s in s.cursors[mailbox] }
  }

  public func saveMailboxCursor(_ cursor: MailboxCursor, for mailbox: String) throws {
    state.withLock { s in s.cursors[mailbox] = cursor }
  }
}

/// Words and rules both ledgers share.
public enum LedgerText {
  public static let interrupted = "interrupted before the server's final reply"
  public static func resolved(sent: Bool) -> String {
    sent ? " [resolved: delivered]" : " [resolved: not delivered]"
  }
}

extension DeliveryState {
  /// States that hold an invoice's step: one live original per invoice and step at most.
  public var isLive: Bool { self == .sending || self == .sent || self == .unknown }

  /// What `resolve` may change: an unknown delivery either way; a rejected or bounced one only
  /// to "not sent" (the address was corrected: due again).
  public static func resolvable(sent: Bool) -> [DeliveryState] {
    sent ? [.unknown] : [.unknown, .rejected, .bounced]
  }
}

extension LedgerError {
  public static func duplicate(invoice: String, step: Step) -> LedgerError {
    LedgerError(
      code: .duplicate,
      message:
        "invoice \(invoice): a \(step.rawValue) reminder is already recorded (sending, sent or unknown); not recording it twice"
    )
  }
}

/// `2026-12-01T08:00:00.123Z` (UTC, milliseconds), the ledger's stamp, without a formatter.
public enum LedgerTimestamp {
  public static func string(_ date: Date) -> String {
    let total = Int64((date.timeIntervalSince1970 * 1000).rounded())
    let (seconds, ms) = total.quotientAndRemainder(dividingBy: 1000)
    var t = time_t(ms < 0 ? seconds - 1 : seconds)
    let millis = ms < 0 ? ms + 1000 : ms
    var parts = tm()
    gmtime_r(&t, &parts)
    return "\((parts.tm_year + 1900).zeroPadded(4))-\((parts.tm_mon + 1).zeroPadded(2))-"
      + "\(parts.tm_mday.zeroPadded(2))T\(parts.tm_hour.zeroPadded(2)):"
      + "\(parts.tm_min.zeroPadded(2)):\(parts.tm_sec.zeroPadded(2)).\(millis.zeroPadded(3))Z"
  }
}
