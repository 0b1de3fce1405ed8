import Foundation
import HerinnerBounces
import HerinnerCore
import HerinnerLetters
import Testing

@testable import HerinnerBatch

/// `smtp.tagEnvelope`: each message's MAIL FROM names its delivery, so that a bounce that
/// quotes nothing of the original still finds it.
@Suite struct EnvelopeTagTests {
  final class Capture: MailTransport {
    var envelopes: [Envelope] = []
    func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome {
      envelopes.append(envelope)
      return .accepted(code: 250, reply: "ok")
    }
  }

  func run(tag: Bool) throws -> [Envelope] {
    let c = Capture()
    let b = MessageBuilder(
      templates: try NightRunnerTests().templates(),
      timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
      readAttachment: { _ in [1, 2, 3] })
    let r = NightRunner(
      builder: b, ledger: MemoryLedger(), transports: [c], envelopeFrom: sender.email, bcc: [],
      maxPerMinute: 0, archive: { n, _ in n }, unarchive: { _ in }, clock: { Date() })
    r.tagEnvelope = tag
    _ = try r.run(NightRunnerTests().messages(2))
    return c.envelopes
  }

  @Test func taggedSendersNameEachDelivery() throws {
    let envelopes = try run(tag: true)
    try #require(envelopes.count == 2)
    let local = sender.email.split(separator: "@")[0]
    let domain = sender.email.split(separator: "@")[1]
    for e in envelopes {
      #expect(e.from.hasPrefix(local + "+d"))
      #expect(e.from.hasSuffix("-first@" + domain))
    }
    #expect(Set(envelopes.map(\.from)).count == 2, "one tag per delivery")
  }

  @Test func untaggedByDefault() throws {
    #expect(try run(tag: false).map(\.from) == [sender.email, sender.email])
  }

  @Test(arguments: [
    (
      "administratie@studiovermeer.nl", "2026-0101", Step.second,
      "administratie+d2026-0101-second@studiovermeer.nl"
    ),
    ("a.b@x.nl", "F/12", Step.first, "a.b+dF=2F12-first@x.nl"),
    ("geen-apenstaartje", "1", Step.first, "geen-apenstaartje"),
  ])
  func theTagGoesBeforeTheAt(_ from: String, _ invoice: String, _ step: Step, _ want: String) {
    let a = NewAttempt(
      messageKey: "k", invoices: [invoice], step: step, isResend: false,
      runDate: CalendarDate(year: 2026, month: 12, day: 1)!, deadline: nil, costs: nil,
      recipients: ["klant@example.nl"], messageID: "<k@x>", inReplyTo: nil)
    #expect(ConnectionWork.tagged(from, a) == want)
  }
}
