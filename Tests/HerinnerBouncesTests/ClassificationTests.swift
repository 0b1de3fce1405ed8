import Testing

@testable import HerinnerBounces

/// Reports without a DSN part, decided on their words: finality before delay, a report before
/// an auto-reply, and a person's mail is no report.
@Suite struct ClassificationTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var headers: String
    var body: String
    var kind: BounceKind
    var testDescription: String { name }
  }

  static let daemon = "From: Mail Delivery System <MAILER-DAEMON@mx.example>\n"

  static let cases: [Case] = [
    Case(
      name: "a final notice that also says 'Warning' stays hard",
      headers: daemon + "Subject: Undelivered Mail Returned to Sender\n",
      body: "Warning: your message could not be delivered.\n550 5.1.1 unknown user\n",
      kind: .hard),
    Case(
      name: "a delay notice is soft",
      headers: daemon + "Subject: Delivery Status Notification (Delay)\n",
      body:
        "Delivery to inkoop@klant.example has been delayed.\nIt will be retried for 2 more days.\n",
      kind: .soft),
    Case(
      name: "a 4.x.x code in a notice that gave up is hard",
      headers: daemon + "Subject: failure notice\n",
      body: "<vol@klant.example>:\n451 4.2.2 mailbox full\nI'm not going to try again; "
        + "this message has been in the queue too long.\n",
      kind: .hard),
    Case(
      name: "a Dutch delay notice is soft",
      headers: "From: postmaster@klant.example\nSubject: Vertraagd: Aanmaning factuur 2026-0007\n",
      body: "De bezorging aan pieter@klant.example is vertraagd. Het wordt opnieuw geprobeerd.\n",
      kind: .soft),
    Case(
      name: "a report carrying Auto-Submitted is a report first",
      headers: daemon + "Auto-Submitted: auto-replied\nSubject: Mail delivery failed\n",
      body: "This is a permanent error. The following address(es) failed:\n  a@klant.example\n",
      kind: .hard),
    Case(
      name: "out of office with Precedence: bulk",
      headers:
        "From: Anna <anna@klant.example>\nPrecedence: bulk\nSubject: Out of Office: factuur\n",
      body: "I am out of the office until Monday.\n", kind: .autoReply),
    Case(
      name: "an English automatic reply by subject and empty Return-Path",
      headers: "Return-Path: <>\nFrom: anna@klant.example\nSubject: Auto reply: factuur\n",
      body: "Thank you for your message.\n", kind: .autoReply),
    Case(
      name: "a person's mail that uses the words is no report",
      headers: "From: Pieter <pieter@klant.example>\nSubject: Re: factuur 2026-0007\n",
      body: "Mijn bank heeft de betaling rejected, ik probeer het morgen opnieuw.\n",
      kind: .notABounce),
  ]

  @Test(arguments: cases)
  func kind(_ c: Case) throws {
    let bytes = Array((c.headers + "Date: Tue, 1 Dec 2026 09:00:00 +0100\n\n" + c.body).utf8)
    #expect(try BounceReader.report(bytes).kind == c.kind)
  }

  @Test func ourOwnAddressInTheNoticeIsNotTheRecipient() throws {
    let text = """
      From: MAILER-DAEMON@mx.example
      To: administratie+d2026-0042-first@studiovermeer.example
      Subject: failure notice

      Your message from administratie@studiovermeer.example could not be delivered to
      inkoop@bakkerij.example: 550 5.1.1 unknown user. This is a permanent error.

      """
    let r = try BounceReader.report(Array(text.utf8))
    #expect(r.kind == .hard)
    #expect(r.recipient == "inkoop@bakkerij.example")
    #expect(r.envelopeTags == ["d2026-0042-first"])
  }
}
