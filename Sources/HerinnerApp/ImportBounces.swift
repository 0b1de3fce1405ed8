import Foundation
import HerinnerBounces
import HerinnerCore

/// `bounces import` and `bounces fetch`: reads returned mail, ties each message to the
/// reminder it answers and records it. A hard bounce makes that delivery `bounced`; a soft one
/// is noted; a report recorded before changes nothing.
public struct ImportBounces {
  /// One message read and what recording it did.
  public struct Line: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
      /// The same message was recorded before: nothing changed.
      case alreadyRecorded
      /// Recorded; no delivery changed.
      case noted
      /// Recorded, and the delivery of these invoices is now `bounced`.
      case bounced(invoices: [String])
    }
    public var file: String
    public var report: BounceReport
    /// The reminder it answers, nil when none of ours.
    public var match: BounceMatch?
    public var outcome: Outcome

    /// The first invoice of the message it answers.
    public var invoice: String? { match?.message.invoices.first }
    public var step: Step? { match?.message.step }
    /// A final failure of one of our reminders that this run recorded: a person is needed.
    public var needsPerson: Bool {
      guard match != nil, outcome != .alreadyRecorded else { return false }
      if case .bounced = outcome { return true }
      return report.kind == .hard
    }
  }

  /// A message named for reading: its name (file, or mailbox and UID) and exact bytes.
  public struct Message: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
      self.name = name
      self.bytes = bytes
    }
  }

  public let deliveries: any DeliveryStore
  public let bounces: any BounceStore
  /// A stable identity of a message's bytes (a content hash): the same message is recorded once.
  public let fingerprint: ([UInt8]) -> String

  public init(
    deliveries: any DeliveryStore, bounces: any BounceStore,
    fingerprint: @escaping ([UInt8]) -> String
  ) {
    self.deliveries = deliveries
    self.bounces = bounces
    self.fingerprint = fingerprint
  }

  /// Reads one message. Pure: a message that is not readable throws.
  public static func read(_ message: Message) throws(MailFormatError) -> BounceReport {
    try BounceReader.report(message.bytes)
  }

  /// Matches and records reports already read, in order.
  public func record(_ read: [(message: Message, report: BounceReport)]) throws -> [Line] {
    var lines: [Line] = []
    var sent = try candidates()
    for (message, report) in read {
      let isBounce = report.kind == .hard || report.kind == .soft
      let match = isBounce ? BounceMatcher.match(report, among: sent.messages) : nil
      let key = match.flatMap { sent.keys[$0.message.messageID] }
      let outcome = try bounces.recordBounce(
        NewBounce(
          reportID: fingerprint(message.bytes), messageKey: key, kind: Self.kind(report.kind),
          status: report.status, recipient: report.recipient, diagnostic: report.diagnostic,
          reportDate: report.date, source: message.name))
      let lineOutcome: Line.Outcome
      switch outcome {
      case .alreadyRecorded: lineOutcome = .alreadyRecorded
      case .noted: lineOutcome = .noted
      case .bounced(let rows):
        var invoices: [String] = []
        for r in rows where !invoices.contains(r.invoice) { invoices.append(r.invoice) }
        lineOutcome = .bounced(invoices: invoices)
        // A later report on the same message still finds it; its rows changed state only.
        sent = try candidates()
      }
      lines.append(Line(file: message.name, report: report, match: match, outcome: lineOutcome))
    }
    return lines
  }

  static func kind(_ k: BounceKind) -> BounceRecordKind {
    switch k {
    case .hard: return .hard
    case .soft: return .soft
    case .autoReply: return .autoReply
    case .notABounce: return .notABounce
    }
  }

  /// The messages that may have reached a server (and so can come back), one per Message-ID,
  /// with the delivery key each Message-ID belongs to.
  func candidates() throws -> (messages: [SentMessage], keys: [String: String]) {
    var byID: [String: SentMessage] = [:]
    var keys: [String: String] = [:]
    var order: [String] = []
    let states: Set<DeliveryState> = BounceRule.bounceable.union([.bounced])
    for r in try deliveries.deliveries(invoice: nil) where states.contains(r.state) {
      if var m = byID[r.messageID] {
        if !m.invoices.contains(r.invoice) { m.invoices.append(r.invoice) }
        byID[r.messageID] = m
        continue
      }
      order.append(r.messageID)
      keys[r.messageID] = r.messageKey
      byID[r.messageID] = SentMessage(
        messageID: r.messageID, invoices: [r.invoice], step: r.step,
        recipients: r.recipients.split(separator: ",").map {
          String($0).trimmingCharacters(in: .whitespaces)
        }, sent: r.runDate, envelopeTag: EnvelopeTag.make(invoice: r.invoice, step: r.step))
    }
    return (order.compactMap { byID[$0] }, keys)
  }
}
