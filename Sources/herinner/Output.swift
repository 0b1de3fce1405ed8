import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerLetters

/// How reports look on a terminal, in a cron mail, or as JSON.
enum Output {
  static func json<T: Encodable>(_ value: T) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try enc.encode(value), as: UTF8.self)
  }

  static func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
  }

  /// A message as a person reads it: the envelope and headers that matter, then the text.
  static func readable(
    _ b: MessageBuilder.Built, index: Int, of total: Int, step: Step, bcc: [String]
  ) -> String {
    let m = b.message
    var s = "=== message \(index) of \(total): \(step.rawValue) ===\n"
    s += "From: \(m.from.name.map { "\($0) " } ?? "")<\(m.from.address)>\n"
    s +=
      "To: \(m.to.map { "\($0.name.map { "\($0) " } ?? "")<\($0.address)>" }.joined(separator: ", "))\n"
    if let r = m.replyTo { s += "Reply-To: <\(r.address)>\n" }
    if !bcc.isEmpty { s += "Bcc (envelope only): \(bcc.joined(separator: ", "))\n" }
    s += "Subject: \(m.subject)\n"
    s += "Message-ID: \(m.messageID)\n"
    if let r = m.inReplyTo { s += "In-Reply-To: \(r)\n" }
    for a in m.attachments {
      s += "Attachment: \(a.filename) (application/pdf, \(a.data.count) bytes)\n"
    }
    s += "Size: \(b.bytes.count) bytes\n\n"
    s += b.rendered.text
    return s
  }

  /// The night's summary: one line of counts, then what waits and what needs a person.
  static func summary(_ r: NightReport) -> String {
    var lines: [String] = []
    if let closed = r.closed {
      lines.append(
        "\(r.date.iso) is not a business day (\(closed)): nothing is sent today; the next business day's run catches up."
      )
    }
    if r.dryRun {
      lines.append(
        "dry run for \(r.date.iso): \(r.messages) message(s) would be sent for \(r.invoices) invoice(s) (first \(r.firsts), second \(r.seconds)); nothing was sent or written."
      )
    } else {
      let t = r.tally
      lines.append(
        "send \(r.date.iso): sent \(t.sent), deferred \(t.deferred), rejected \(t.rejected), unknown \(r.unknownPending), not attempted \(t.notAttempted) (messages)"
      )
    }
    if r.tally.notRendered > 0 { lines.append("not rendered: \(r.tally.notRendered)") }
    lines.append("call list: \(r.callList); ready for collection: \(r.readyForCollection)")
    let skipped = r.skipped
    if !skipped.isEmpty {
      lines.append(
        "skipped: "
          + skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", "))
    }
    for a in r.planAttention {
      lines.append("needs attention: invoice \(a.invoice): \(a.reason.text(invoice: a.invoice))")
    }
    return lines.joined(separator: "\n")
  }

  /// `send --json`.
  struct NightSummary: Encodable {
    var date: String
    var closed: String?
    var sent, deferred, rejected, unknown, notAttempted, notRendered, invalidRows, callList,
      readyForCollection: Int
    var skipped: [String: Int]
    var attention: [String]

    init(_ r: NightReport) {
      date = r.date.iso
      closed = r.closed
      sent = r.tally.sent
      deferred = r.tally.deferred
      rejected = r.tally.rejected
      unknown = r.unknownPending
      notAttempted = r.tally.notAttempted
      notRendered = r.tally.notRendered
      invalidRows = r.invalidRows
      callList = r.callList
      readyForCollection = r.readyForCollection
      skipped = r.waiting
      attention = r.attention
    }
  }
}

/// mboxrd: a `From ` line before each message, `>` added to any line that starts with `>*From `.
/// Lines end in LF, as a Unix mbox does (mail clients show a stray `^M` otherwise); the bytes
/// that go out end every line in CRLF.
enum Mbox {
  static func entry(_ bytes: [UInt8], date: Date) -> [UInt8] {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "EEE MMM dd HH:mm:ss yyyy"
    var out = Array("From herinner@localhost \(f.string(from: date))\n".utf8)
    out.reserveCapacity(bytes.count + 200)
    let from = Array("From ".utf8)
    var i = 0
    while i < bytes.count {
      var end = i
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      var j = i
      while j < end && bytes[j] == UInt8(ascii: ">") { j += 1 }
      if end - j >= 5 && bytes[j..<j + 5].elementsEqual(from) { out.append(UInt8(ascii: ">")) }
      let content = end > i && bytes[end - 1] == 0x0D ? end - 1 : end
      out.append(contentsOf: bytes[i..<content])
      out.append(0x0A)
      i = end + 1
    }
    out.append(0x0A)
    return out
  }
}
