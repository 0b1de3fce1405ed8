/// One message's delivery attempt, recorded as `sending` before it is handed to the server.
public struct NewAttempt: Sendable {
  public var messageKey: String
  public var invoices: [String]
  public var step: Step
  public var isResend: Bool
  public var runDate: CalendarDate
  public var deadline: CalendarDate?
  public var costs: Int64?
  public var recipients: [String]
  public var messageID: String
  public var inReplyTo: String?
  /// Where the exact bytes are archived (written before the attempt is recorded).
  public var archivePath: String?

  public init(
    messageKey: String, invoices: [String], step: Step, isResend: Bool, runDate: CalendarDate,
    deadline: CalendarDate?, costs: Int64?, recipients: [String], messageID: String,
    inReplyTo: String?, archivePath: String? = nil
  ) {
    self.messageKey = messageKey
    self.invoices = invoices
    self.step = step
    self.isResend = isResend
    self.runDate = runDate
    self.deadline = deadline
    self.costs = costs
    self.recipients = recipients
    self.messageID = messageID
    self.inReplyTo = inReplyTo
    self.archivePath = archivePath
  }
}

/// The server's verdict on one message, for every invoice it covers.
public struct DeliveryResult: Sendable {
  public var messageKey: String
  public var state: DeliveryState
  public var replyCode: Int?
  public var reply: String?
  public var archivePath: String?
  public init(
    messageKey: String, state: DeliveryState, replyCode: Int?, reply: String?, archivePath: String?
  ) {
    self.messageKey = messageKey
    self.state = state
    self.replyCode = replyCode
    self.reply = reply
    self.archivePath = archivePath
  }
}

/// The port the batch records through. Semantics: `begin` is durable before it returns (the
/// message may then go to the server); an invoice+step can have only one live original
/// delivery, so a second `begin` for it throws.
public protocol DeliveryLedger: AnyObject {
  func begin(_ attempts: [NewAttempt]) throws
  func finish(_ results: [DeliveryResult]) throws
  /// Removes attempts that provably never reached a server (the connection, TLS or login failed
  /// before the first message of the run), so that such a run marks nothing.
  func abandon(_ messageKeys: [String]) throws
  /// `finish(results)` and `begin(attempts)` in one durable transaction where the ledger can
  /// (all or none); the default does one after the other.
  func commit(finishing results: [DeliveryResult], beginning attempts: [NewAttempt]) throws
  /// The messages still recorded as `sending` (an earlier run was interrupted), one per
  /// message key, in the order they were begun.
  func interruptedDeliveries() throws -> [InterruptedDelivery]
}

/// A message left `sending` by an interrupted run: what recovery needs to decide its fate.
public struct InterruptedDelivery: Sendable, Hashable {
  public var messageKey: String
  public var invoices: [String]
  public var step: Step
  public var archivePath: String?
  public init(messageKey: String, invoices: [String], step: Step, archivePath: String?) {
    self.messageKey = messageKey
    self.invoices = invoices
    self.step = step
    self.archivePath = archivePath
  }
}

/// A ledger that does not implement a requirement of the port.
public struct LedgerPortUnsupported: Error, Sendable, CustomStringConvertible {
  public var operation: String
  public init(operation: String) { self.operation = operation }
  public var description: String { "this delivery ledger cannot \(operation)" }
}

extension DeliveryLedger {
  public func commit(finishing results: [DeliveryResult], beginning attempts: [NewAttempt])
    throws
  {
    if !results.isEmpty { try finish(results) }
    if !attempts.isEmpty { try begin(attempts) }
  }

  /// Refuses: a ledger that can be interrupted must list what was left `sending`.
  public func interruptedDeliveries() throws -> [InterruptedDelivery] {
    throw LedgerPortUnsupported(operation: "list the deliveries an interrupted run left sending")
  }
}
