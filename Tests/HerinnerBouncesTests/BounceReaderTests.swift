import Foundation
import HerinnerCore
import Testing

@testable import HerinnerBounces

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures").path

func fixture(_ name: String) throws -> [UInt8] {
  let path = fixtures + "/" + name
  guard let data = FileManager.default.contents(atPath: path) else {
    Issue.record("fixture missing: \(path)")
    throw CancellationError()
  }
  return [UInt8](data)
}

/// One fixture and the reading it must give.
struct Expected: Sendable, CustomTestStringConvertible {
  var file: String
  var kind: BounceKind
  var status: String?
  var recipient: String?
  var messageID: String?
  var testDescription: String { file }
}

let ours42 = "<herinner.first.2026-0042.20261130.k3j4h5g6@studiovermeer.example>"

let expectations: [Expected] = [
  Expected(
    file: "dsn-failed-userunknown.eml", kind: .hard, status: "5.1.1",
    recipient: "inkoop@bakkerij.example", messageID: ours42),
  Expected(
    file: "dsn-delayed.eml", kind: .soft, status: "4.4.1", recipient: "wacht@traag.example",
    messageID: ours42),
  Expected(
    file: "dsn-class-only-status.eml", kind: .hard, status: "5.1.1",
    recipient: "boekhouding@klant.example", messageID: nil),
  Expected(
    file: "dsn-expired-4xx.eml", kind: .hard, status: "4.4.7", recipient: "wacht@traag.example",
    messageID: ours42),
  Expected(file: "dsn-success.eml", kind: .notABounce),
  Expected(
    file: "dsn-misnamed-close.eml", kind: .hard, status: "5.2.1", recipient: "uit@klant.example",
    messageID: "<herinner.first.2026-0070.20261201.mmmm@studiovermeer.example>"),
  Expected(
    file: "qmail-permanent.eml", kind: .hard, status: "5.1.1", recipient: "info@klant.example",
    messageID: ours42),
  Expected(
    file: "exim-failed.eml", kind: .hard, status: nil, recipient: "debiteur@klant.example",
    messageID: "<herinner.second.2026-0007.20261201.bbbb2222@studiovermeer.example>"),
  Expected(
    file: "exim-delay-warning.eml", kind: .soft, status: nil, recipient: "traag@klant.example"),
  Expected(
    file: "gmail-text-qp.eml", kind: .hard, status: "5.2.2", recipient: "vol@klant.example",
    messageID: "<herinner.first.2026-0050.20261201.qp9x8@studiovermeer.example>"),
  Expected(
    file: "office365-text-base64.eml", kind: .hard, status: "5.1.10",
    recipient: "weg@klant.example",
    messageID: "<herinner.second.2026-0060.20261201.o365@studiovermeer.example>"),
  Expected(
    file: "exchange-dutch-ndr.eml", kind: .hard, status: "5.1.1", recipient: "oud@klant.example",
    messageID: "<herinner.second.2026-0080.20261201.nl01@studiovermeer.example>"),
  Expected(file: "ses-json-delivery.eml", kind: .notABounce),
  Expected(file: "arf-complaint.eml", kind: .notABounce),
  Expected(
    file: "autoreply-afwezig.eml", kind: .autoReply, recipient: "jose@bakkerij.example",
    messageID: ours42),
  Expected(file: "autoreply-exchange.eml", kind: .autoReply, recipient: "pieter@klant.example"),
  Expected(file: "plain-mail.eml", kind: .notABounce),
  Expected(file: "forward-attached.eml", kind: .notABounce),
]

@Suite struct BounceReaderTests {
  @Test(arguments: expectations)
  func reading(_ e: Expected) throws {
    let r = try BounceReader.report(try fixture(e.file))
    #expect(r.kind == e.kind)
    #expect(r.status == e.status)
    #expect(r.recipient == e.recipient)
    #expect(r.originalMessageID == e.messageID)
  }

  @Test(arguments: [
    ("malformed-no-headers.eml", MailFormatError.noHeaderBlock),
    ("malformed-cut-off.eml", MailFormatError.cutOff(contentType: "multipart/report")),
    ("malformed-empty.eml", MailFormatError.empty),
  ])
  func malformed(file: String, error: MailFormatError) throws {
    let bytes = try fixture(file)
    #expect(throws: error) { try BounceReader.report(bytes) }
  }

  @Test func envelopeTagAndDate() throws {
    let r = try BounceReader.report(try fixture("dsn-failed-userunknown.eml"))
    #expect(r.envelopeTags == ["d2026-0042-first"])
    #expect(r.date == CalendarDateFixture.d(2026, 11, 30))
  }

  @Test func everyPrefixOfAReportIsReadOrRefusedNeverATrap() throws {
    let bytes = try fixture("dsn-failed-userunknown.eml")
    for n in stride(from: 0, through: bytes.count, by: 7) {
      _ = try? BounceReader.report(Array(bytes[..<n]))
    }
  }

  @Test(arguments: [
    ("5.1.1", "550 5.1.1 <a@b.nl>: user unknown"),
    ("4.4.7", "Status: 4.4.7 (delivery expired)"),
    ("5.1.2", "no host named x.nl (#5.1.2)"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
    ("5.2.2", "mailbox full 5.2.2."),
  ])
  func statusCodes(want: String, text: String) {
    #expect(StatusCodes.first(in: text) == want)
  }

  @Test(arguments: ["host 192.0.2.25 said", "version 5.1.1.3", "Postfix 2.10.1", "4.9.1"])
  func notStatusCodes(text: String) {
    #expect(StatusCodes.first(in: text) == nil)
  }

  @Test(arguments: [
    ("=?UTF-8?Q?Afwezig:_tot_7_december?=", "Afwezig: tot 7 december"),
    ("=?iso-8859-1?q?Jos=E9?= =?utf-8?b?SmFuc2Vu?=", "JoséJansen"),
    ("Re: =?UTF-8?B?ZmFjdHV1cg==?= 2026-0007", "Re: factuur 2026-0007"),
    ("no words here", "no words here"),
    ("=?broken", "=?broken"),
  ])
  func encodedWords(raw: String, want: String) {
    #expect(EncodedWords.decode(raw) == want)
  }

  @Test func quotedPrintableSoftBreaks() {
    let qp = Array("552 5.2.=\n2 over=20quota=3D full =\n".utf8)
    #expect(
      String(decoding: TransferEncoding.quotedPrintable(qp), as: UTF8.self)
        == "552 5.2.2 over quota= full ")
  }

  @Test func foldedHeadersAreUnfolded() throws {
    let m = try MailReader.message(
      Array("Subject: een\r\n\tlang\r\n onderwerp\r\nFrom: a@b.example\r\n\r\nbody\r\n".utf8))
    #expect(m.headers["subject"] == "een lang onderwerp")
    // The body keeps its last line end; CRLF is read as LF.
    #expect(String(decoding: m.body, as: UTF8.self) == "body\n")
  }

  @Test func nestedMultipartsAreRead() throws {
    let text = """
      Content-Type: multipart/mixed; boundary=outer

      --outer
      Content-Type: multipart/alternative; boundary=inner

      --inner
      Content-Type: text/plain

      plain
      --inner
      Content-Type: text/html

      <p>html</p>
      --inner--
      --outer--

      """
    let m = try MailReader.message(Array(text.utf8))
    #expect(
      m.allParts.map(\.contentType) == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
      ])
    #expect(m.allParts[2].text == "plain")
  }

  @Test func anInnerPartCutOffIsMalformed() {
    let text = """
      Content-Type: multipart/mixed; boundary=outer

      --outer
      Content-Type: multipart/alternative; boundary=inner

      --inner
      Content-Type: text/plain

      plain
      --outer--

      """
    #expect(throws: MailFormatError.cutOff(contentType: "multipart/alternative")) {
      try MailReader.message(Array(text.utf8))
    }
  }

  @Test func deepNestingIsReadWithoutExhaustingTheStack() throws {
    var text = "From: a@b.example\n"
    let depth = 3_000
    for n in 0..<depth {
      text += "Content-Type: multipart/mixed; boundary=b\(n)\n\n--b\(n)\n"
    }
    text += "Content-Type: text/plain\n\nhello\n"
    for n in (0..<depth).reversed() { text += "--b\(n)--\n" }
    let m = try MailReader.message(Array(text.utf8))
    #expect(m.allParts.count == MailReader.maximumDepth + 1)
    #expect(try BounceReader.report(Array(text.utf8)).kind == .notABounce)
  }
}

enum CalendarDateFixture {
  static func d(_ y: Int, _ m: Int, _ day: Int) -> CalendarDate? {
    CalendarDate(year: y, month: m, day: day)
  }
}
