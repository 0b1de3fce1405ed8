/// One row of the ledger: one invoice's part in one delivery attempt of one message.
///
/// A message that covers several invoices (one letter per customer) has one row per invoice,
/// all sharing `messageKey`, `messageID` and the outcome.
public struct DeliveryRow: Sendable, Hashable {
  public var id: Int64
  public var messageKey: String
  public var invoice: String
  public var step: Step
  public var state: DeliveryState
  public var isResend: Bool
  public var runDate: CalendarDate
  public var deadline: CalendarDate?
  public var costs: Int64?
  public var recipients: String
  public var messageID: String
  public var inReplyTo: String?
  public var replyCode: Int?
  public var reply: String?
  public var archivePath: String?
  public var createdAt: String
  public var updatedAt: String

  public init(
    id: Int64, messageKey: String, invoice: String, step: Step, state: DeliveryState,
    isResend: Bool, runDate: CalendarDate, deadline: CalendarDate?, costs: Int64?,
    recipients: String, messageID: String, inReplyTo: String?, replyCode: Int?, reply: String?,
    archivePath: String?, createdAt: String, updatedAt: String
  ) {
    self.id = id
    self.messageKey = messageKey
    self.invoice = invoice
    self.step = step
    self.state = state
    self.isResend = isResend
    self.runDate = runDate
    self.deadline = deadline
    self.costs = costs
    self.recipients = recipients
    self.messageID = messageID
    self.inReplyTo = inReplyTo
    self.replyCode = replyCode
    self.reply = reply
    self.archivePath = archivePath
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }

  /// The row as the ladder sees it.
  public var record: DeliveryRecord {
    DeliveryRecord(
      step: step, state: state, date: runDate, isResend: isResend, deadline: deadline, reply: reply,
      messageID: messageID)
  }
}

/// One logged phone call.
public struct CallRow: Sendable, Hashable {
  public var id: Int64
  public var invoice: String
  public var date: CalendarDate
  public var note: String
  public var createdAt: String

  public init(id: Int64, invoice: String, date: CalendarDate, note: String, createdAt: String) {
    self.id = id
    self.invoice = invoice
    self.date = date
    self.note = note
    self.createdAt = createdAt
  }
}
