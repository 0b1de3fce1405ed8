import Foundation
import HerinnerCore

/// A sent reminder a report may answer: what the ledger knows of one message.
public struct SentMessage: Sendable, Hashable {
  public var messageID: String
  public var invoices: [String]
  public var step: Step
  public var recipients: [String]
  public var sent: CalendarDate
  /// The `+tag` of the envelope sender it went out with, when it was tagged.
  public var envelopeTag: String?

  public init(
    messageID: String, invoices: [String], step: Step, recipients: [String], sent: CalendarDate,
    envelopeTag: String? = nil
  ) {
    self.messageID = messageID
    self.invoices = invoices
    self.step = step
    self.recipients = recipients
    self.sent = sent
    self.envelopeTag = envelopeTag
  }
}

/// How a report was tied to its message.
public enum BounceMatchRule: String, Sendable, Hashable {
  case messageID = "message-id"
  case envelopeTag = "envelope-tag"
  case recipientAndDate = "recipient-and-date"
}

public struct BounceMatch: Sendable, Hashable {
  public var message: SentMessage
  public var rule: BounceMatchRule
}

/// Ties reports to the messages they answer. Pure.
public enum BounceMatcher {
  /// How many days after sending a report can still come back: mail servers give up after
  /// about five days (RFC 5321 §4.5.4.1: "at least 4-5 days").
  public static let reportWindowDays = 7

  /// The message a report answers: by the original Message-ID, else by the envelope sender's
  /// tag, else by the failed recipient when exactly one message went to that address in the
  /// days before the report. Never a guess: two candidates are no match.
  public static func match(_ report: BounceReport, among sent: [SentMessage]) -> BounceMatch? {
    if let id = report.originalMessageID.map(normalized) {
      let hits = sent.filter { normalized($0.messageID) == id }
      if let m = hits.first { return BounceMatch(message: m, rule: .messageID) }
    }
    for tag in report.envelopeTags {
      let hits = sent.filter { $0.envelopeTag?.lowercased() == tag.lowercased() }
      if hits.count == 1 { return BounceMatch(message: hits[0], rule: .envelopeTag) }
      if hits.count > 1 {
        // A tag names a delivery, not one attempt: the latest before the report.
        if let date = report.date,
          let latest = hits.filter({ $0.sent <= date.adding(days: 1) }).max(by: {
            $0.sent < $1.sent
          }),
          hits.filter({ $0.sent == latest.sent }).count == 1
        {
          return BounceMatch(message: latest, rule: .envelopeTag)
        }
        return nil
      }
    }
    guard let recipient = report.recipient?.lowercased(), let date = report.date else {
      return nil
    }
    // The report's date is in its writer's time zone: a day's slack either way.
    let hits = sent.filter { m in
      m.recipients.contains { $0.lowercased() == recipient }
        && m.sent <= date.adding(days: 1) && date <= m.sent.adding(days: reportWindowDays)
    }
    guard hits.count == 1 else { return nil }
    return BounceMatch(message: hits[0], rule: .recipientAndDate)
  }

  static func normalized(_ id: String) -> String {
    var s = id.trimmingCharacters(in: .whitespaces)
    if s.hasPrefix("<") && s.hasSuffix(">") { s = String(s.dropFirst().dropLast()) }
    return s.lowercased()
  }
}

/// The `+tag` that names a delivery in a tagged envelope sender
/// (`administratie+d2026-0101-first@...`), so that a report that returns no headers of the
/// original still finds it (VERP-style; RFC 5233 subaddressing). Pure.
public enum EnvelopeTag {
  /// `d` + the invoice number + `-` + the step. Anything in the number but letters, digits,
  /// `-` and `_` is written `=XX`, so that the tag stays a plain dot-atom local part
  /// (RFC 5322 §3.2.3) whatever the number holds.
  public static func make(invoice: String, step: Step) -> String {
    var out = "d"
    for b in invoice.utf8 {
      let plain =
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2D || b == 0x5F
      if plain {
        out.append(Character(Unicode.Scalar(b)))
      } else {
        out += "=" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
      }
    }
    return out + "-" + step.rawValue
  }
}
