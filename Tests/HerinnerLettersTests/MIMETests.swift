import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLetters

@Suite struct MIMETests {
  func message(
    subject: String = "Herinnering: factuur 2026-0042", name: String = "Zoë Šimić-Ørsted",
    html: String? = "<p>Hallo</p>", filename: String = "factuur-2026-0042.pdf"
  ) -> OutgoingMessage {
    OutgoingMessage(
      from: MailAddress("administratie@studiovermeer.nl", name: "Studio Vermeer B.V."),
      to: [MailAddress("zoe@example.nl", name: name)],
      replyTo: MailAddress("administratie@studiovermeer.nl", name: "Studio Vermeer B.V."),
      subject: subject, date: fixedDate, timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
      messageID: "<a.b@studiovermeer.nl>", inReplyTo: "<first@studiovermeer.nl>",
      references: ["<first@studiovermeer.nl>"],
      text:
        "Geachte mevrouw,\n\nOpenstaand: € 1.234,56 — graag vóór 15 december.\nFrom here on a line that starts with From.\n. a dot line\nA line with trailing space \n"
        + String(repeating: "lang ", count: 60),
      html: html,
      attachments: [
        Attachment(filename: filename, data: (0..<70_000).map { UInt8(($0 * 7) % 256) })
      ])
  }

  @Test func pythonParsesItWithoutDefectsAndEverythingRoundTrips() throws {
    let longSubject =
      "Aanmaning: facturen 2026-0111, 2026-0112, 2026-0113 en 2026-0114 — Zoë Šimić-Ørsted, Keizersgracht"
    let m = message(
      subject: longSubject,
      filename:
        "factuur Zoë 2026-0042 met een hele lange naam die doorloopt tot ver voorbij de regel.pdf")
    let bytes = try MIMEComposer().compose(m)
    let r = try #require(try pythonParse([bytes]).first)
    #expect((r["defects"] as? [String]) == [])
    #expect(r["subject"] as? String == longSubject)
    #expect(r["to_name"] as? String == "Zoë Šimić-Ørsted")
    #expect(r["from_name"] as? String == "Studio Vermeer B.V.")
    #expect(r["in_reply_to"] as? String == "<first@studiovermeer.nl>")
    #expect(r["date"] as? String == "Tue, 01 Dec 2026 09:00:00 +0100")
    #expect(r["auto_submitted"] as? String == "auto-generated")
    #expect(r["mime_version"] as? String == "1.0")
    #expect(r["content_type"] as? String == "multipart/mixed")
    #expect((r["max_line"] as? Int ?? 999) <= 998)
    #expect(r["bare_lf"] as? Int == 0)
    let parts = r["parts"] as? [[String: Any]] ?? []
    #expect(
      parts.map { $0["type"] as? String } == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf",
      ])
    let decoded = (parts[2]["text"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    #expect(decoded.hasPrefix(m.text) && decoded.dropFirst(m.text.count).allSatisfy { $0 == "\n" })
    let pdf = parts[4]
    #expect(
      pdf["filename"] as? String
        == "factuur Zoë 2026-0042 met een hele lange naam die doorloopt tot ver voorbij de regel.pdf"
    )
    #expect(pdf["size"] as? Int == 70_000)
    #expect(pdf["sha256"] as? String == sha256Hex(m.attachments[0].data))
    // The subject really is longer than one header line, folded.
    let head = String(decoding: bytes.prefix(2000), as: UTF8.self)
    #expect(head.contains("Subject: =?utf-8?B?"))
    #expect(head.components(separatedBy: "\r\n ").count > 2)
  }

  @Test func everyLineEndsInCRLFAndBodyLinesStayShort() throws {
    let bytes = try MIMEComposer().compose(message())
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    for line in text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
    // A line that starts with "From " or "." is encoded, so no transport mangles it.
    #expect(text.contains("=46rom here on"))
    #expect(text.contains("=2E a dot line"))
    #expect(text.contains("trailing space=20"))
  }

  @Test(arguments: [
    ("subject", "Herinnering\r\nBcc: victim@example.com"), ("name", "Evil\nBcc: x@y.z"),
    ("filename", "a\r\nb.pdf"),
    ("subject", "bell \u{07}"),
  ])
  func refusesLineBreaksInHeaders(_ field: String, _ value: String) {
    var m = message()
    switch field {
    case "subject": m.subject = value
    case "name": m.to[0].name = value
    default: m.attachments[0].filename = value
    }
    #expect(throws: MIMEError.self) { try MIMEComposer().compose(m) }
  }

  @Test func refusesBadAddressesAndMessageIDs() {
    var m = message()
    m.to = [MailAddress("a@b.nl>, <c@d.nl")]
    #expect(throws: MIMEError.self) { try MIMEComposer().compose(m) }
    m = message()
    m.messageID = "no-at-sign"
    #expect(throws: MIMEError.self) { try MIMEComposer().compose(m) }
  }

  @Test func deterministicWithInjectedBoundaries() throws {
    let c = MIMEComposer(boundary: { "=_fixed_\($0)" })
    #expect(try c.compose(message()) == (try c.compose(message())))
  }

  @Test func textOnlyMessageHasNoAlternativePart() throws {
    let bytes = try MIMEComposer().compose(message(html: nil))
    let r = try #require(try pythonParse([bytes]).first)
    let parts = r["parts"] as? [[String: Any]] ?? []
    #expect(
      parts.map { $0["type"] as? String } == ["multipart/mixed", "text/plain", "application/pdf"])
  }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
  // A tiny SHA-256 so the test does not trust any one library for the comparison.
  var h: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
    0x5be0_cd19,
  ]
  let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01,
    0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1,
    0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc,
    0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8,
    0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147,
    0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354,
    0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585,
    0x106a_a070, 0x19a4_c116, 0x1e37_6c08,
    0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3, 0x748f_82ee,
    0x78a5_636f, 0x84c8_7814, 0x8cc7_0208,
    0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]
  var msg = bytes
  let bitLen = UInt64(bytes.count) * 8
  msg.append(0x80)
  while msg.count % 64 != 56 { msg.append(0) }
  for i in (0..<8).reversed() { msg.append(UInt8((bitLen >> (UInt64(i) * 8)) & 0xff)) }
  func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
  for chunk in stride(from: 0, to: msg.count, by: 64) {
    var w = [UInt32](repeating: 0, count: 64)
    for i in 0..<16 {
      w[i] =
        UInt32(msg[chunk + 4 * i]) << 24 | UInt32(msg[chunk + 4 * i + 1]) << 16 | UInt32(
          msg[chunk + 4 * i + 2]) << 8 | UInt32(msg[chunk + 4 * i + 3])
    }
    for i in 16..<64 {
      let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
      let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
      w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
    }
    var (a, b, c, dd, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
    for i in 0..<64 {
      let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
      let ch = (e & f) ^ (~e & g)
      let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
      let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
      let maj = (a & b) ^ (a & c) ^ (b & c)
      let t2 = s0 &+ maj
      (hh, g, f, e, dd, c, b, a) = (g, f, e, dd &+ t1, c, b, a, t1 &+ t2)
    }
    h = [h[0] &+ a, h[1] &+ b, h[2] &+ c, h[3] &+ dd, h[4] &+ e, h[5] &+ f, h[6] &+ g, h[7] &+ hh]
  }
  return h.map { String(format: "%08x", $0) }.joined()
}

@Suite struct Base64Tests {
  /// Against Foundation's encoder with 76-character CRLF lines, for every length around the
  /// line and triple boundaries and some large ones.
  @Test func matchesFoundationAtEveryLength() {
    var g = SystemRandomNumberGenerator()
    for n in Array(0...240) + [56, 57, 58, 113, 114, 115, 4095, 100_000, 100_001, 100_002] {
      let data = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
      var out: [UInt8] = Array("x".utf8)
      Base64.appendLines(data, to: &out)
      var expected = Data(data).base64EncodedString(
        options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
      if n > 0 { expected += "\r\n" }
      #expect(String(decoding: out.dropFirst(), as: UTF8.self) == expected, "length \(n)")
    }
  }
}

@Suite struct HeaderWriterTests {
  /// The String-based writer this byte-level one replaced (kept as the reference).
  static func reference(_ name: String, _ value: String) -> String? {
    let unfolded = value.replacingOccurrences(of: "\r\n ", with: "\u{0}")
    if unfolded.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) { return nil }
    var line = "\(name): "
    var out = ""
    for (i, segment) in unfolded.split(separator: "\u{0}", omittingEmptySubsequences: false)
      .enumerated()
    {
      if i > 0 {
        out += line + "\r\n"
        line = " "
      }
      for (j, word) in segment.split(separator: " ", omittingEmptySubsequences: false).enumerated()
      {
        if j > 0 {
          if line.utf8.count + 1 + word.utf8.count > 78
            && line.trimmingCharacters(in: .whitespaces).count > 0 && !(line.hasSuffix(": "))
          {
            out += line + "\r\n"
            line = " " + word
          } else {
            line += " " + word
          }
        } else {
          line += word
        }
      }
    }
    out += line + "\r\n"
    if out.split(separator: "\r\n").contains(where: { $0.utf8.count > 998 }) { return nil }
    return out
  }

  /// Random values from spaces, folds, colons, long words and non-ASCII: same bytes, or both
  /// refuse.
  @Test func sameBytesAsTheStringWriter() {
    var g = SystemRandomNumberGenerator()
    let pieces = [
      " ", "  ", "\r\n ", "a", "Herinnering:", "factuur", "2026-0042", "é", "\u{00A0}", ":",
      String(repeating: "x", count: 70), String(repeating: "y", count: 500), "=?utf-8?B?w6k=?=",
      "\r", "\n", "\t",
    ]
    for _ in 0..<3000 {
      var value = ""
      for _ in 0..<Int.random(in: 0...14, using: &g) { value += pieces.randomElement(using: &g)! }
      var w = HeaderWriter()
      let got: String? = (try? w.add("Subject", value)).map {
        String(decoding: w.bytes, as: UTF8.self)
      }
      #expect(got == Self.reference("Subject", value), "\(value.debugDescription)")
    }
  }
}
