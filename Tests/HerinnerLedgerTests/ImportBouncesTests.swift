import Foundation
import HerinnerApp
import HerinnerBounces
import HerinnerCore
import Testing

@testable import HerinnerLedger

/// An RFC 3464 report on the message `<\(original)>` to `rcpt`.
func dsn(
  action: String, status: String, original: String, rcpt: String = "klant@example.nl",
  date: String = "Tue, 10 Nov 2026 03:00:00 +0100", to: String = "administratie@studiovermeer.nl"
) -> [UInt8] {
  let text = """
    Date: \(date)
    From: MAILER-DAEMON@mx.example.nl (Mail Delivery System)
    To: \(to)
    Subject: Undelivered Mail Returned to Sender
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

    --b1
    Content-Type: text/plain

    Your message could not be delivered.

    --b1
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.example.nl

    Final-Recipient: rfc822; \(rcpt)
    Action: \(action)
    Status: \(status)
    Diagnostic-Code: smtp; 550 \(status) mailbox unavailable

    --b1
    Content-Type: text/rfc822-headers

    Message-ID: <\(original)>
    Subject: Betalingsherinnering

    --b1--

    """
  return Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// A stable stand-in for the content hash: the bytes themselves, in hex.
func hexFingerprint(_ b: [UInt8]) -> String { b.map { String($0, radix: 16) }.joined() }

/// The use case over both ledger backends: read, match, record.
@Suite struct ImportBouncesTests {
  func importer(_ l: any LedgerStore & BounceStore) -> ImportBounces {
    ImportBounces(deliveries: l, bounces: l, fingerprint: hexFingerprint)
  }

  func run(_ l: any LedgerStore & BounceStore, _ bytes: [UInt8], name: String = "r.eml") throws
    -> ImportBounces.Line
  {
    let m = ImportBounces.Message(name: name, bytes: bytes)
    let lines = try importer(l).record([(m, try ImportBounces.read(m))])
    try #require(lines.count == 1)
    return lines[0]
  }

  @Test(arguments: Backend.allCases)
  func aHardReportByMessageIDBouncesTheDelivery(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["A", "B"], .second)])
    try l.finish([result("m1", .sent)])
    let line = try run(l, dsn(action: "failed", status: "5.1.1", original: "m1@studiovermeer.nl"))
    #expect(line.report.kind == .hard)
    #expect(line.match?.rule == .messageID)
    #expect(line.invoice == "A")
    #expect(line.step == .second)
    #expect(line.outcome == .bounced(invoices: ["A", "B"]))
    #expect(line.needsPerson)
    #expect(try l.deliveries().map(\.state) == [.bounced, .bounced])
    // The same file again: listed, nothing recorded, no person needed.
    let again = try run(l, dsn(action: "failed", status: "5.1.1", original: "m1@studiovermeer.nl"))
    #expect(again.outcome == .alreadyRecorded)
    #expect(!again.needsPerson)
    #expect(try l.bounces(invoice: "A").count == 1)
  }

  @Test(arguments: Backend.allCases)
  func aDelayIsNotedAndChangesNothing(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"])])
    try l.finish([result("m1", .sent)])
    let line = try run(l, dsn(action: "delayed", status: "4.4.1", original: "m1@studiovermeer.nl"))
    #expect(line.report.kind == .soft)
    #expect(line.outcome == .noted)
    #expect(!line.needsPerson)
    #expect(try l.deliveries().map(\.state) == [.sent])
  }

  /// A report that quotes nothing of the original finds its delivery by the envelope tag.
  @Test(arguments: Backend.allCases)
  func aReportToTheTaggedEnvelopeFindsItsDelivery(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["2026-0042"])])
    try l.finish([result("m1", .sent)])
    let tag = EnvelopeTag.make(invoice: "2026-0042", step: .first)
    let line = try run(
      l,
      dsn(
        action: "failed", status: "5.2.2", original: "someone-else@elders.example",
        rcpt: "ander@example.nl", to: "administratie+\(tag)@studiovermeer.nl"))
    #expect(line.match?.rule == .envelopeTag)
    #expect(line.outcome == .bounced(invoices: ["2026-0042"]))
  }

  @Test(arguments: Backend.allCases)
  func aReportOfNoneOfOursIsListedNotGuessed(_ backend: Backend) throws {
    let (l, keep) = try bounceLedger(backend)
    defer { _ = keep }
    try l.begin([attempt("m1", ["A"])])
    try l.finish([result("m1", .sent)])
    let line = try run(
      l,
      dsn(
        action: "failed", status: "5.1.1", original: "other@elders.example",
        rcpt: "iemand@elders.example"))
    #expect(line.match == nil)
    #expect(line.outcome == .noted)
    #expect(!line.needsPerson)
    #expect(try l.deliveries().map(\.state) == [.sent])
    #expect(try l.bounces(invoice: nil).count == 1)
  }
}
