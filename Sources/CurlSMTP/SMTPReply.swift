/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more lines of text.
public struct SMTPReply: Error, Sendable, Hashable, CustomStringConvertible {
  public var code: Int
  /// The text of each line, after the code and its separator.
  public var lines: [String]

  public init(code: Int, lines: [String]) {
    self.code = code
    self.lines = lines
  }

  public init(_ code: Int, _ text: String) {
    self.init(code: code, lines: [text])
  }

  /// The enhanced status code (RFC 3463, RFC 2034) the first line starts with, if any, and
  /// only when its class agrees with the reply code.
  public var enhanced: EnhancedStatusCode? {
    guard let first = lines.first, let e = EnhancedStatusCode(prefixOf: first),
      e.klass == code / 100
    else { return nil }
    return e
  }

  /// The reply as one line: "250 2.0.0 Ok: queued as 4F2" (the lines of a multi-line reply
  /// joined by spaces).
  public var description: String {
    let text = lines.filter { !$0.isEmpty }.joined(separator: " ")
    return text.isEmpty ? "\(code)" : "\(code) \(text)"
  }

  var isPositive: Bool { (200..<300).contains(code) }
  var isTransient: Bool { (400..<500).contains(code) }
  var isPermanent: Bool { (500..<600).contains(code) }
}

/// class.subject.detail (RFC 3463 §2), e.g. 5.1.1 (bad destination mailbox).
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
  public var klass: Int
  public var subject: Int
  public var detail: Int

  public init(_ klass: Int, _ subject: Int, _ detail: Int) {
    self.klass = klass
    self.subject = subject
    self.detail = detail
  }

  /// Reads "5.1.1" at the start of `text`, followed by a space or the end (RFC 3463 §2:
  /// class 2, 4 or 5; subject and detail up to three digits).
  init?(prefixOf text: String) {
    let word = text.utf8.prefix { $0 != UInt8(ascii: " ") }
    let parts = word.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 3 else { return nil }
    var numbers: [Int] = []
    for (i, p) in parts.enumerated() {
      let limit = i == 0 ? 1 : 3
      guard !p.isEmpty, p.count <= limit, p.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
        return nil
      }
      numbers.append(p.reduce(0) { $0 * 10 + Int($1 - 0x30) })
    }
    guard [2, 4, 5].contains(numbers[0]) else { return nil }
    self.init(numbers[0], numbers[1], numbers[2])
  }

  public var description: String { "\(klass).\(subject).\(detail)" }
}

/// Cuts received bytes into replies. Pure: bytes in, replies out.
///
/// A reply line is a code, "-" (more lines follow) or " " (or nothing) and text, ended by CRLF
/// (RFC 5321 §4.2); a bare LF is taken as a line end too. Anything else — a code that is not
/// three digits from 200 to 599, a continuation whose code differs, a line longer than
/// `maximumLineLength` — is malformed: the connection is out of step and is not used further.
public struct SMTPReplyReader: Sendable {
  public enum Event: Sendable, Equatable {
    case reply(SMTPReply)
    /// The line that could not be read (shortened, for the message).
    case malformed(String)
  }

  /// RFC 5321 §4.5.3.1.5 allows 512 octets; servers' texts run longer, but not this long.
  public static let maximumLineLength = 4096
  /// Bounds a multi-line reply (an EHLO reply has a few dozen lines at most).
  public static let maximumLines = 200

  private var buffer: [UInt8] = []
  private var start = 0
  /// The lines of the multi-line reply read so far.
  private var code = 0
  private var lines: [String] = []
  private var failed = false

  public init() {}

  public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    if start == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      start = 0
    } else if start > 65536 {
      buffer.removeSubrange(0..<start)
      start = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// True when bytes have arrived that are not yet part of a returned reply.
  public var hasPendingInput: Bool { start < buffer.count || !lines.isEmpty }

  /// The next complete reply, a malformed line, or nil when more bytes are needed.
  public mutating func next() -> Event? {
    if failed { return nil }
    while true {
      guard let lf = buffer[start...].firstIndex(of: 0x0A) else {
        if buffer.count - start > Self.maximumLineLength {
          return fail(buffer[start..<(start + 80)])
        }
        return nil
      }
      var end = lf
      if end > start && buffer[end - 1] == 0x0D { end -= 1 }
      let line = buffer[start..<end]
      start = lf + 1
      if start == buffer.count {
        buffer.removeAll(keepingCapacity: true)
        start = 0
      }
      guard line.count <= Self.maximumLineLength, let c = Self.code(of: line) else {
        return fail(line)
      }
      let separator: UInt8? = line.count > 3 ? line[line.startIndex + 3] : nil
      guard separator == nil || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-")
      else { return fail(line) }
      if !lines.isEmpty && c != code { return fail(line) }
      code = c
      let text = line.count > 4 ? String(decoding: line.dropFirst(4), as: UTF8.self) : ""
      lines.append(text)
      if separator == UInt8(ascii: "-") {
        guard lines.count < Self.maximumLines else { return fail(line) }
        continue
      }
      let reply = SMTPReply(code: c, lines: lines)
      lines = []
      return .reply(reply)
    }
  }

  private mutating func fail(_ line: ArraySlice<UInt8>) -> Event {
    failed = true
    let shown = String(decoding: line.prefix(80), as: UTF8.self).map {
      $0.isASCII && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0.isSymbol || $0 == " ")
        ? $0 : "?"
    }
    return .malformed(String(shown))
  }

  /// Three digits, the first 2 to 5 and the second 0 to 5 (RFC 5321 §4.2.1).
  private static func code(of line: ArraySlice<UInt8>) -> Int? {
    guard line.count >= 3 else { return nil }
    let d = line.prefix(3).map { Int($0) - 0x30 }
    guard (2...5).contains(d[0]), (0...5).contains(d[1]), (0...9).contains(d[2]) else {
      return nil
    }
    return d[0] * 100 + d[1] * 10 + d[2]
  }

  /// Every complete reply in `bytes` (e.g. the lines libcurl saw while it opened the session);
  /// nil when one is malformed.
  public static func replies<S: Sequence>(in bytes: S) -> [SMTPReply]? where S.Element == UInt8 {
    var reader = SMTPReplyReader()
    reader.append(bytes)
    var out: [SMTPReply] = []
    while let e = reader.next() {
      switch e {
      case .reply(let r): out.append(r)
      case .malformed: return nil
      }
    }
    return out
  }
}

/// What the server offers, from its reply to EHLO (RFC 5321 §4.1.1.1).
public struct SMTPCapabilities: Sendable, Hashable {
  /// RFC 2920.
  public var pipelining: Bool
  /// RFC 1870: the largest message the server takes, 0 for no fixed limit; nil when SIZE is
  /// not offered.
  public var size: Int?
  /// RFC 4954: the SASL mechanisms offered, upper-cased.
  public var authMechanisms: Set<String>
  /// RFC 2034.
  public var enhancedStatusCodes: Bool

  public init(
    pipelining: Bool = false, size: Int? = nil, authMechanisms: Set<String> = [],
    enhancedStatusCodes: Bool = false
  ) {
    self.pipelining = pipelining
    self.size = size
    self.authMechanisms = authMechanisms
    self.enhancedStatusCodes = enhancedStatusCodes
  }

  /// From one EHLO reply: its first line is the server's name, each further line a keyword.
  public init(ehlo reply: SMTPReply) {
    self.init()
    for line in reply.lines.dropFirst() {
      let words = line.split(separator: " ").map { $0.uppercased() }
      guard let keyword = words.first else { continue }
      switch keyword {
      case "PIPELINING": pipelining = true
      case "SIZE":
        // "SIZE" alone announces the extension without a limit.
        size = words.count > 1 ? Int(words[1]).map { max(0, $0) } : 0
      case "AUTH": authMechanisms.formUnion(words.dropFirst())
      case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
      default: break
      }
    }
  }

  /// The capabilities that count for the session: from the EHLO reply after the last 220
  /// (the greeting, or "ready to start TLS"), so never from the EHLO before STARTTLS (RFC 3207
  /// §4.2: the client discards what it learned before TLS). `replies` are the session's
  /// replies in order (greeting, EHLO, STARTTLS, EHLO, …).
  public init(session replies: [SMTPReply]) {
    let afterTLS = replies.lastIndex { $0.code == 220 }.map { replies.index(after: $0) } ?? 0
    if let ehlo = replies[afterTLS...].first, ehlo.code == 250 {
      self.init(ehlo: ehlo)
    } else {
      self.init()
    }
  }
}
