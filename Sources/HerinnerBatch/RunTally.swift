import HerinnerCore

/// Something of a run that a person should see: kept typed until it is printed, so the caller
/// can count, merge (a `Set`) or log it without reading its sentence back.
public enum Attention: Sendable, Hashable, Codable, CustomStringConvertible {
  /// 4xx, or the connection was lost before the data was complete: retried next run.
  case deferred(invoices: [String], step: Step, reply: String)
  /// 5xx about the recipient: not retried until a person acts.
  case rejected(invoices: [String], step: Step, reply: String)
  /// Handed to the server without a final reply: it may or may not have it.
  case unknown(invoices: [String], step: Step, reason: String)
  /// The letter could not be rendered or built: nothing recorded, nothing sent.
  case notRendered(invoices: [String], reason: String)
  /// Recorded, but the night stopped before a connection took it: not sent, due next run.
  case notAttempted(invoices: [String], step: Step)
  /// Not sent because the transport declined it before any of it went out (larger than the
  /// server's limit): due again, and a person must act (smaller attachments, another server).
  case declined(invoices: [String], step: Step, reason: String)
  /// Some connections could not be opened; the night went on over the others.
  case connectionsLeftOut(count: Int, of: Int, reason: String)
  /// A delivery interrupted by an earlier run that may have reached the server.
  case interruptedUnknown(invoices: [String], step: Step)

  public var description: String {
    switch self {
    case .deferred(let invoices, let step, let reply):
      return "\(Self.who(invoices, step)): deferred, retried next run: \(reply)"
    case .rejected(let invoices, let step, let reply):
      return "\(Self.who(invoices, step)): rejected by the server, not retried: \(reply)"
    case .unknown(let invoices, let step, let reason):
      return "\(Self.who(invoices, step)): unknown (\(reason)); check, then `herinner resolve`"
    case .notRendered(let invoices, let reason):
      return "invoice \(invoices.joined(separator: ", ")): not rendered, not sent: \(reason)"
    case .notAttempted(let invoices, let step):
      return "\(Self.who(invoices, step)): not attempted (the night stopped first); due next run"
    case .declined(let invoices, let step, let reason):
      return "\(Self.who(invoices, step)): not attempted: \(reason); still due"
    case .connectionsLeftOut(let count, let of, let reason):
      return
        "\(count) of \(of) SMTP connections could not be opened (\(reason)); the night went on over the others"
    case .interruptedUnknown(let invoices, let step):
      let resolve = invoices.map {
        "`herinner resolve \($0) --stage \(step.rawValue) --sent|--not-sent`"
      }
      return
        "\(Self.who(invoices, step)): an interrupted send is now unknown; check, then \(resolve.joined(separator: ", "))"
    }
  }

  /// Whether it keeps the exit code at 1. Connections left out do not: the night was done over
  /// the others.
  public var needsAttention: Bool {
    switch self {
    case .connectionsLeftOut: return false
    default: return true
    }
  }

  private static func who(_ invoices: [String], _ step: Step) -> String {
    "invoice \(invoices.joined(separator: ", ")) (\(step.rawValue))"
  }
}

/// Counts of what a run did, for the summary and the exit code.
public struct RunTally: Sendable, Codable {
  public var sent = 0
  public var deferred = 0
  public var rejected = 0
  public var unknown = 0
  public var notRendered = 0
  /// Recorded, then never tried because the night stopped: due again next run.
  public var notAttempted = 0
  public var sentInvoices = 0
  /// What needs a person, in the order it happened.
  public var attention: [Attention] = []
  /// The transport failed mid-batch; the rest waits for the next run.
  public var stoppedEarly: String?

  public init() {}

  /// The attention items as sentences.
  public var problems: [String] { attention.map(\.description) }

  /// Adds another tally's counts and problems to this one.
  public mutating func add(_ o: RunTally) {
    sent += o.sent
    deferred += o.deferred
    rejected += o.rejected
    unknown += o.unknown
    notRendered += o.notRendered
    notAttempted += o.notAttempted
    sentInvoices += o.sentInvoices
    attention += o.attention
    stoppedEarly = stoppedEarly ?? o.stoppedEarly
  }

  public var needsAttention: Bool {
    deferred + rejected + unknown + notRendered + notAttempted > 0 || stoppedEarly != nil
      || attention.contains { $0.needsAttention }
  }
}
