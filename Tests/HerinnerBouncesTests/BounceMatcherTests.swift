import HerinnerCore
import Testing

@testable import HerinnerBounces

@Suite struct BounceMatcherTests {
  static let day = CalendarDate(year: 2026, month: 11, day: 30)!

  static let sent: [SentMessage] = [
    SentMessage(
      messageID: "<herinner.first.2026-0042.20261130.k3j4h5g6@studiovermeer.example>",
      invoices: ["2026-0042"], step: .first, recipients: ["inkoop@bakkerij.example"], sent: day,
      envelopeTag: "d2026-0042-first"),
    SentMessage(
      messageID: "<herinner.first.2026-0043.20261130.zzzz@studiovermeer.example>",
      invoices: ["2026-0043", "2026-0044"], step: .first, recipients: ["Wacht@Traag.example"],
      sent: day, envelopeTag: "d2026-0043-first"),
    SentMessage(
      messageID: "<herinner.second.2026-0050.20261130.a@studiovermeer.example>",
      invoices: ["2026-0050"], step: .second, recipients: ["gedeeld@klant.example"], sent: day),
    SentMessage(
      messageID: "<herinner.second.2026-0051.20261130.b@studiovermeer.example>",
      invoices: ["2026-0051"], step: .second, recipients: ["gedeeld@klant.example"], sent: day),
  ]

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var report: BounceReport
    var invoice: String?
    var rule: BounceMatchRule?
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "by Message-ID, whatever else the report says",
      report: BounceReport(
        kind: .hard, recipient: "someone@else.example",
        originalMessageID: "<herinner.first.2026-0042.20261130.k3j4h5g6@studiovermeer.example>",
        envelopeTags: ["d2026-0043-first"]),
      invoice: "2026-0042", rule: .messageID),
    Case(
      name: "by the envelope tag when the original is not returned",
      report: BounceReport(kind: .hard, envelopeTags: ["d2026-0043-first"]),
      invoice: "2026-0043", rule: .envelopeTag),
    Case(
      name: "by recipient (any case) and date",
      report: BounceReport(
        kind: .hard, recipient: "wacht@traag.example", date: day.adding(days: 5)),
      invoice: "2026-0043", rule: .recipientAndDate),
    Case(
      name: "a report from before the message is no match",
      report: BounceReport(
        kind: .hard, recipient: "wacht@traag.example", date: day.adding(days: -3))),
    Case(
      name: "a report weeks later is no match",
      report: BounceReport(
        kind: .hard, recipient: "wacht@traag.example", date: day.adding(days: 30))),
    Case(
      name: "two messages to the address: listed, not guessed",
      report: BounceReport(kind: .hard, recipient: "gedeeld@klant.example", date: day)),
    Case(
      name: "an unknown Message-ID and nothing else",
      report: BounceReport(kind: .hard, originalMessageID: "<other@example>")),
    Case(
      name: "a recipient without a date",
      report: BounceReport(kind: .hard, recipient: "inkoop@bakkerij.example")),
  ]

  @Test(arguments: cases)
  func matching(_ c: Case) {
    let m = BounceMatcher.match(c.report, among: Self.sent)
    #expect(m?.message.invoices.first == c.invoice)
    #expect(m?.rule == c.rule)
  }

  @Test(arguments: [
    ("2026-0101", Step.first, "d2026-0101-first"),
    ("F 12/3", Step.second, "dF=2012=2F3-second"),
    ("A=B", Step.first, "dA=3DB-first"),
    ("2026.7", Step.first, "d2026=2E7-first"),
  ])
  func envelopeTags(invoice: String, step: Step, want: String) {
    #expect(EnvelopeTag.make(invoice: invoice, step: step) == want)
  }
}
