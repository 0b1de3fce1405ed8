import Foundation
import HerinnerCore

/// A mailbox: an optional display name and an address.
public struct MailAddress: Sendable, Hashable {
  public var name: String?
  public var address: String
  public init(_ address: String, name: String? = nil) {
    self.address = address
    self.name = name
  }
}

public struct Attachment: Sendable, Hashable {
  public var filename: String
  public var contentType: String
  public var data: [UInt8]
  public init(filename: String, contentType: String = "application/pdf", data: [UInt8]) {
    self.filename = filename
    self.contentType = contentType
    self.data = data
  }
}

/// Everything a message says, before it becomes bytes.
public struct OutgoingMessage: Sendable {
  public var from: MailAddress
  public var to: [MailAddress]
  public var replyTo: MailAddress?
  public var subject: String
  public var date: Date
  public var timeZone: TimeZone
  public var messageID: String
  public var inReplyTo: String?
  public var references: [String]
  /// `Auto-Submitted: auto-generated` (RFC 3834) on nightly sends; not on a manual resend.
  public var autoSubmitted: Bool
  public var text: String
  public var html: String?
  public var attachments: [Attachment]

  public init(
    from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, date: Date,
    timeZone: TimeZone, messageID: String, inReplyTo: String? = nil, references: [String] = [],
    autoSubmitted: Bool = true, text: String, html: String? = nil, attachments: [Attachment] = []
  ) {
    self.from = from
    self.to = to
    self.replyTo = replyTo
    self.subject = subject
    self.date = date
    self.timeZone = timeZone
    self.messageID = messageID
    self.inReplyTo = inReplyTo
    self.references = references
    self.autoSubmitted = autoSubmitted
    self.text = text
    self.html = html
    self.attachments = attachments
  }
}

public struct MIMEError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// A pure RFC 5322 / MIME composer: CRLF, no line over 998 octets (76 in bodies), RFC 2047
/// encoded words for non-ASCII headers, RFC 2231 file names, quoted-printable UTF-8 text,
/// base64 attachments. Deterministic given its boundary generator. Refuses any header value
/// containing CR or LF (defence in depth behind the input checks).
public struct MIMEComposer: Sendable {
  public var boundary: @Sendable (Int) -> String

  public init(boundary: @escaping @Sendable (Int) -> String = MIMEComposer.randomBoundary) {
    self.boundary = boundary
  }

  /// `=_` cannot occur in quoted-printable or base64 output, so the boundary never collides.
  public static let randomBoundary: @Sendable (Int) -> String = { n in
    // One draw of 128 random bits per boundary (not a system call per character).
    var g = SystemRandomNumberGenerator()
    return "=_herinner_\(n)_" + String(g.next(), radix: 36) + String(g.next(), radix: 36)
  }

  public func compose(_ m: OutgoingMessage) throws(MIMEError) -> [UInt8] {
    var h = HeaderWriter()
    try h.add("Date", Self.rfc5322Date(m.date, m.timeZone))
    try h.add("From", try Self.mailbox(m.from))
    guard !m.to.isEmpty else { throw MIMEError(message: "a message needs a recipient") }
    try h.add("To", try m.to.map(Self.mailbox).joined(separator: ", "))
    if let r = m.replyTo { try h.add("Reply-To", try Self.mailbox(r)) }
    try Self.checkNoLineBreak(m.subject, "Subject")
    try h.add("Subject", Self.unstructured(m.subject))
    try h.add("Message-ID", try Self.msgID(m.messageID))
    if let r = m.inReplyTo { try h.add("In-Reply-To", try Self.msgID(r)) }
    if !m.references.isEmpty {
      try h.add("References", try m.references.map(Self.msgID).joined(separator: " "))
    }
    if m.autoSubmitted { try h.add("Auto-Submitted", "auto-generated") }
    try h.add("MIME-Version", "1.0")

    let textPart = Self.textPart(m.text, subtype: "plain")
    var bodyPart: [UInt8]
    if let html = m.html {
      let b = boundary(2)
      bodyPart = Array("Content-Type: multipart/alternative;\r\n boundary=\"\(b)\"\r\n\r\n".utf8)
      bodyPart += Self.multipartBody(b, [textPart, Self.textPart(html, subtype: "html")])
    } else {
      bodyPart = textPart
    }
    var out = h.bytes
    if m.attachments.isEmpty {
      out += bodyPart
      return out
    }
    // One buffer for the whole message: the attachments' base64 is written into it directly.
    let encoded = m.attachments.reduce(0) { $0 + ($1.data.count + 2) / 3 * 4 * 78 / 76 + 600 }
    out.reserveCapacity(out.count + bodyPart.count + encoded + 256)
    let b = boundary(1)
    out += "Content-Type: multipart/mixed;\r\n boundary=\"\(b)\"\r\n\r\n".utf8
    out += "This is a multi-part message in MIME format.\r\n".utf8
    out += "--\(b)\r\n".utf8
    out += bodyPart
    if out.last != 0x0A { out += [0x0D, 0x0A] }
    for a in m.attachments {
      out += "--\(b)\r\n".utf8
      try Self.appendAttachmentPart(a, to: &out)
    }
    out += "--\(b)--\r\n".utf8
    return out
  }

  static func multipartBody(_ boundary: String, _ parts: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = Array("This is a multi-part message in MIME format.\r\n".utf8)
    for p in parts {
      out += Array("--\(boundary)\r\n".utf8)
      out += p
      if out.last != 0x0A { out += [0x0D, 0x0A] }
    }
    out += Array("--\(boundary)--\r\n".utf8)
    return out
  }

  static func textPart(_ text: String, subtype: String) -> [UInt8] {
    Array(
      "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        .utf8)
      + QuotedPrintable.encode(text) + [0x0D, 0x0A]
  }

  static func appendAttachmentPart(_ a: Attachment, to out: inout [UInt8]) throws(MIMEError) {
    guard !a.contentType.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\"" }) else {
      throw MIMEError(message: "bad content type")
    }
    let name = try RFC2231.parameter("name", a.filename)
    let filename = try RFC2231.parameter("filename", a.filename)
    out += "Content-Type: \(a.contentType);\r\n \(name)\r\n".utf8
    out += "Content-Disposition: attachment;\r\n \(filename)\r\n".utf8
    out += "Content-Transfer-Encoding: base64\r\n\r\n".utf8
    Base64.appendLines(a.data, to: &out)
    if out.last != 0x0A { out += [0x0D, 0x0A] }
  }

  /// `Tue, 01 Dec 2026 09:00:00 +0100` in the configured zone.
  public static func rfc5322Date(_ date: Date, _ zone: TimeZone) -> String {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = zone
    let c = cal.dateComponents(
      [.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = [
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    let offset = zone.secondsFromGMT(for: date) / 60
    func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let sign = offset < 0 ? "-" : "+"
    return
      "\(days[c.weekday! - 1]), \(p(c.day!)) \(months[c.month! - 1]) \(c.year!) \(p(c.hour!)):\(p(c.minute!)):\(p(c.second!)) \(sign)\(p(abs(offset) / 60))\(p(abs(offset) % 60))"
  }

  static func checkNoLineBreak(_ s: String, _ what: String) throws(MIMEError) {
    if s.unicodeScalars.contains(where: {
      $0 == "\r" || $0 == "\n" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F
    }) {
      throw MIMEError(message: "\(what) contains a line break or control character: refused")
    }
  }

  static func msgID(_ id: String) throws(MIMEError) -> String {
    try checkNoLineBreak(id, "Message-ID")
    let bare = id.hasPrefix("<") && id.hasSuffix(">") ? String(id.dropFirst().dropLast()) : id
    guard bare.contains("@"), !bare.contains(where: { $0 == " " || $0 == "<" || $0 == ">" }),
      bare.allSatisfy(\.isASCII)
    else {
      throw MIMEError(message: "not a Message-ID: \(id)")
    }
    return "<\(bare)>"
  }

  /// `"Studio Vermeer B.V." <a@b.nl>` or `=?utf-8?B?…?= <a@b.nl>`.
  static func mailbox(_ a: MailAddress) throws(MIMEError) -> String {
    try checkNoLineBreak(a.address, "address")
    guard
      a.address.allSatisfy({
        $0.isASCII && $0 != " " && $0 != "<" && $0 != ">" && $0 != "," && $0 != "\""
      }),
      a.address.contains("@")
    else { throw MIMEError(message: "not an address: \(a.address)") }
    guard let name = a.name, !name.isEmpty else { return a.address }
    try checkNoLineBreak(name, "display name")
    if name.allSatisfy({ $0.isASCII }) {
      var escaped = ""
      for ch in name.unicodeScalars {
        if ch == "\\" || ch == "\"" { escaped.unicodeScalars.append("\\") }
        escaped.unicodeScalars.append(ch)
      }
      return "\"\(escaped)\" <\(a.address)>"
    }
    return EncodedWord.encode(name).joined(separator: "\r\n ") + " <\(a.address)>"
  }

  /// An unstructured header value (Subject): plain when ASCII, else RFC 2047 encoded words.
  static func unstructured(_ s: String) -> String {
    if s.allSatisfy({ $0.isASCII }) && !s.contains("=?") { return s }
    return EncodedWord.encode(s).joined(separator: "\r\n ")
  }
}

/// Writes headers with folding at whitespace so lines stay under 78 characters where possible
/// and never reach 998.
struct HeaderWriter {
  var bytes: [UInt8] = []

  /// Appends `name: value`, folding at spaces so lines stay within 78 characters where a space
  /// allows, never past 998. The value may carry its own folds (CRLF SP, from encoded words);
  /// any other CR or LF is refused (no header injection). Works on the UTF-8 bytes.
  mutating func add(_ name: String, _ value: String) throws(MIMEError) {
    let v = Array(value.utf8)
    // Segments between our own folds.
    var segments: [ArraySlice<UInt8>] = []
    var start = 0
    var i = 0
    while i < v.count {
      if v[i] == 0x0D && i + 2 < v.count && v[i + 1] == 0x0A && v[i + 2] == 0x20 {
        segments.append(v[start..<i])
        i += 3
        start = i
        continue
      }
      if v[i] == 0x0D || v[i] == 0x0A {
        throw MIMEError(message: "header \(name) contains a line break: refused")
      }
      if v[i] == 0 { throw MIMEError(message: "header \(name) contains a NUL: refused") }
      i += 1
    }
    segments.append(v[start...])
    var out: [UInt8] = []
    out.reserveCapacity(name.utf8.count + v.count + 16)
    var line: [UInt8] = Array(name.utf8) + [0x3A, 0x20]
    func flush() {
      out += line
      out += [0x0D, 0x0A]
    }
    for (k, segment) in segments.enumerated() {
      if k > 0 {
        flush()
        line = [0x20]
      }
      var first = true
      var wordStart = segment.startIndex
      var j = segment.startIndex
      while true {
        let atEnd = j == segment.endIndex
        if !atEnd && segment[j] != 0x20 {
          j += 1
          continue
        }
        let word = segment[wordStart..<j]
        if first {
          line += word
          first = false
        } else if line.count + 1 + word.count > 78 && Self.hasContent(line)
          && !(line.count >= 2 && line[line.count - 2] == 0x3A && line[line.count - 1] == 0x20)
        {
          flush()
          line = [0x20]
          line += word
        } else {
          line.append(0x20)
          line += word
        }
        if atEnd { break }
        j += 1
        wordStart = j
      }
    }
    flush()
    var run = 0
    var k = 0
    while k < out.count {
      if out[k] == 0x0D && k + 1 < out.count && out[k + 1] == 0x0A {
        run = 0
        k += 2
        continue
      }
      run += 1
      if run > 998 { throw MIMEError(message: "header \(name) has a word longer than 998 octets") }
      k += 1
    }
    bytes += out
  }

  /// Whether a line holds anything but whitespace (Unicode's, as `trimmingCharacters` sees it).
  static func hasContent(_ line: [UInt8]) -> Bool {
    var nonASCII = false
    for b in line {
      if b >= 0x80 {
        nonASCII = true
      } else if b != 0x20 && b != 0x09 {
        return true
      }
    }
    guard nonASCII else { return false }
    return !String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces).isEmpty
  }
}

/// RFC 2047 B-encoded words, each at most 75 characters, split only between characters.
enum EncodedWord {
  static func encode(_ s: String) -> [String] {
    var words: [String] = []
    var chunk: [UInt8] = []
    for ch in s {
      let b = Array(String(ch).utf8)
      if chunk.count + b.count > 45 {  // 45 bytes → 60 base64 chars + 12 = 72 ≤ 75
        words.append(word(chunk))
        chunk = []
      }
      chunk += b
    }
    if !chunk.isEmpty { words.append(word(chunk)) }
    return words
  }

  static func word(_ bytes: [UInt8]) -> String {
    "=?utf-8?B?" + Data(bytes).base64EncodedString() + "?="
  }
}

/// RFC 2231 parameters: `filename="a.pdf"` for plain ASCII, else `filename*=utf-8''…`.
enum RFC2231 {
  static func parameter(_ name: String, _ value: String) throws(MIMEError) -> String {
    try MIMEComposer.checkNoLineBreak(value, "file name")
    let plain = value.allSatisfy { $0.isASCII && $0 != "\"" && $0 != "\\" }
    if plain && value.utf8.count < 60 { return "\(name)=\"\(value)\"" }
    var encoded = ""
    for b in value.utf8 {
      let c = Character(Unicode.Scalar(b))
      if b < 0x80 && (c.isLetter || c.isNumber || "!#$&+-.^_`|~".contains(c)) {
        encoded.append(c)
      } else {
        encoded += String(format: "%%%02X", b)
      }
    }
    // Continuations (name*0*=…;\r\n name*1*=…) keep every line short.
    if encoded.count <= 60 { return "\(name)*=utf-8''\(encoded)" }
    var parts: [String] = []
    var rest = Substring(encoded)
    while !rest.isEmpty {
      var cut = rest.index(rest.startIndex, offsetBy: min(60, rest.count))
      // Never split a %XX escape.
      if let pct = rest[..<cut].lastIndex(of: "%"), rest.distance(from: pct, to: cut) < 3 {
        cut = pct
      }
      parts.append(String(rest[..<cut]))
      rest = rest[cut...]
    }
    return parts.enumerated().map { i, p in "\(name)*\(i)*=" + (i == 0 ? "utf-8''" : "") + p }
      .joined(separator: ";\r\n ")
  }
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: CRLF hard breaks, soft breaks under 76,
/// trailing white space encoded, and `From ` / `.` at a line's start encoded so no transport
/// mangles it.
public enum QuotedPrintable {
  public static func encode(_ text: String) -> [UInt8] {
    let src = Array(text.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(src.count + src.count / 8 + 16)
    let hex = Array("0123456789ABCDEF".utf8)
    let from = Array("From ".utf8)
    var lineLength = 0
    var i = 0
    // Any CR, LF or CRLF is a hard line break, written as CRLF.
    while i <= src.count {
      var end = i
      while end < src.count && src[end] != 0x0A && src[end] != 0x0D { end += 1 }
      lineLength = 0
      let startsWithFrom = end - i >= 5 && src[i..<i + 5].elementsEqual(from)
      var k = i
      while k < end {
        let b = src[k]
        let isLast = k == end - 1
        let encode =
          b == 0x3D || b > 0x7E || (b < 0x20 && b != 0x09) || ((b == 0x20 || b == 0x09) && isLast)
          || (k == i && (b == 0x2E || (b == 0x46 && startsWithFrom)))
        let width = encode ? 3 : 1
        if lineLength + width > 75 {
          out.append(0x3D)
          out.append(0x0D)
          out.append(0x0A)
          lineLength = 0
        }
        if encode {
          out.append(0x3D)
          out.append(hex[Int(b >> 4)])
          out.append(hex[Int(b & 0xF)])
        } else {
          out.append(b)
        }
        lineLength += width
        k += 1
      }
      if end >= src.count { break }
      out.append(0x0D)
      out.append(0x0A)
      i = end + (src[end] == 0x0D && end + 1 < src.count && src[end + 1] == 0x0A ? 2 : 1)
      if i == src.count { break }
    }
    return out
  }
}

/// Base64 (RFC 2045) in 76-character CRLF lines, written straight into the message buffer: one
/// pass, no intermediate strings (the attachment is most of every message's bytes).
enum Base64 {
  static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  /// Two output characters per 12 input bits, stored as one 16-bit write.
  static let pairs: [UInt16] = (0..<4096).map {
    UInt16(littleEndian: UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 63]) << 8)
  }
  static let crlf = UInt16(littleEndian: 0x0A0D)

  /// Appends `data` in base64, 76 characters a line, each line ending in CRLF (RFC 2045).
  /// Written straight into `out`: 57 input bytes make one whole line, with no per-byte branch.
  static func appendLines(_ data: [UInt8], to out: inout [UInt8]) {
    let n = data.count
    guard n > 0 else { return }
    let chars = (n + 2) / 3 * 4
    let size = chars + (chars + 75) / 76 * 2
    let start = out.count
    out.append(contentsOf: repeatElement(0, count: size))
    out.withUnsafeMutableBytes { dst in
      data.withUnsafeBufferPointer { src in
        pairs.withUnsafeBufferPointer { pt in
          let d = dst.baseAddress! + start
          let s = src.baseAddress!
          var i = 0
          var o = 0
          @inline(__always) func triple() {
            let v = Int(s[i]) << 16 | Int(s[i + 1]) << 8 | Int(s[i + 2])
            d.storeBytes(of: pt[v >> 12], toByteOffset: o, as: UInt16.self)
            d.storeBytes(of: pt[v & 0xFFF], toByteOffset: o + 2, as: UInt16.self)
            i += 3
            o += 4
          }
          for _ in 0..<(n / 57) {
            for _ in 0..<19 { triple() }
            d.storeBytes(of: crlf, toByteOffset: o, as: UInt16.self)
            o += 2
          }
          guard i < n else { return }
          while i + 3 <= n { triple() }
          let rest = n - i
          if rest > 0 {
            let v = Int(s[i]) << 16 | (rest > 1 ? Int(s[i + 1]) << 8 : 0)
            d.storeBytes(of: pt[v >> 12], toByteOffset: o, as: UInt16.self)
            d.storeBytes(
              of: rest > 1 ? alphabet[v >> 6 & 63] : UInt8(ascii: "="), toByteOffset: o + 2,
              as: UInt8.self)
            d.storeBytes(of: UInt8(ascii: "="), toByteOffset: o + 3, as: UInt8.self)
            o += 4
          }
          d.storeBytes(of: crlf, toByteOffset: o, as: UInt16.self)
        }
      }
    }
  }
}
