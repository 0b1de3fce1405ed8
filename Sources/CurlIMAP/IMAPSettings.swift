/// How to reach the mailbox that receives returned mail. The password is held only in memory
/// and never printed (`description` redacts it).
public struct IMAPSettings: Sendable, CustomStringConvertible {
  /// `imaps://host:port/MAILBOX` (port 993 and mailbox INBOX when left out).
  public var url: String
  public var username: String
  public var password: String
  /// A CA certificate file (PEM) for a server with a private CA; nil: the system's trust store.
  public var caFile: String?
  /// Limit for connecting and for each command.
  public var timeoutSeconds: Int

  public init(
    url: String, username: String, password: String, caFile: String? = nil,
    timeoutSeconds: Int = 60
  ) {
    self.url = url
    self.username = username
    self.password = password
    self.caFile = caFile
    self.timeoutSeconds = timeoutSeconds
  }

  public var description: String {
    "\(url) user=\(username) password=<redacted> caFile=\(caFile ?? "-")"
  }

  /// The URL's parts. Pure.
  public func endpoint() throws(IMAPError) -> IMAPEndpoint {
    try IMAPEndpoint(url: url)
  }
}

/// Host, port and mailbox of an `imaps://` URL (RFC 5092 §3, without its `;UID=` parts).
public struct IMAPEndpoint: Sendable, Equatable {
  public var host: String
  public var port: Int
  /// The mailbox's name as the user wrote it, percent-decoded (`INBOX`, `INBOX/bounces`).
  public var mailbox: String

  public init(host: String, port: Int, mailbox: String) {
    self.host = host
    self.port = port
    self.mailbox = mailbox
  }

  /// What libcurl connects to: the server only. herinner selects the mailbox itself, so that a
  /// refused SELECT is not reported as a refused login (libcurl's own SELECT fails with
  /// CURLE_LOGIN_DENIED).
  public var serverURL: String {
    let h = host.contains(":") ? "[\(host)]" : host
    return "imaps://\(h):\(port)/"
  }

  /// Parses `url`. Pure. Anything but `imaps://` is refused: the login must go over TLS.
  public init(url: String) throws(IMAPError) {
    func bad(_ why: String) -> IMAPError {
      IMAPError(
        .settings,
        "bounces.imap.url \(url.debugDescription) \(why); write it as imaps://host:993/INBOX")
    }
    let scheme = "imaps://"
    guard url.lowercased().hasPrefix(scheme) else {
      throw bad("does not start with imaps:// (only IMAP over TLS is used)")
    }
    let rest = url.dropFirst(scheme.count)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<slash]
    let path = slash < rest.endIndex ? rest[rest.index(after: slash)...] : ""
    guard !authority.contains("@") else {
      throw bad("holds a user name; put it in bounces.imap.username")
    }
    var host: Substring
    var portText: Substring? = nil
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { throw bad("has an unclosed \"[\"") }
      host = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { throw bad("has something after the host's \"]\"") }
        portText = after.dropFirst()
      }
    } else if let colon = authority.firstIndex(of: ":") {
      host = authority[..<colon]
      portText = authority[authority.index(after: colon)...]
    } else {
      host = authority
    }
    guard !host.isEmpty,
      host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") })
    else {
      throw bad("has no valid host name")
    }
    var port = 993
    if let portText {
      guard let p = parseNumber(portText), (1...65535).contains(p) else {
        throw bad("has a port that is not a number from 1 to 65535")
      }
      port = Int(p)
    }
    guard !path.contains(where: { $0 == ";" || $0 == "?" || $0 == "#" }) else {
      throw bad("names more than a mailbox (\";\", \"?\" or \"#\")")
    }
    guard let decoded = percentDecoded(path) else {
      throw bad("has a mailbox name with an invalid %-escape")
    }
    var mailbox = decoded
    while mailbox.hasSuffix("/") { mailbox.removeLast() }
    self.init(host: String(host), port: port, mailbox: mailbox.isEmpty ? "INBOX" : mailbox)
  }
}

/// `%XX` escapes decoded as UTF-8; nil for a broken escape or invalid UTF-8.
func percentDecoded(_ s: Substring) -> String? {
  var out: [UInt8] = []
  var it = Array(s.utf8)[...]
  while let b = it.popFirst() {
    if b == UInt8(ascii: "%") {
      guard it.count >= 2, let hi = hexValue(it[it.startIndex]),
        let lo = hexValue(it[it.startIndex + 1])
      else { return nil }
      out.append(hi << 4 | lo)
      it = it.dropFirst(2)
    } else {
      out.append(b)
    }
  }
  return String(validating: out, as: UTF8.self)
}

private func hexValue(_ b: UInt8) -> UInt8? {
  switch b {
  case 0x30...0x39: return b - 0x30
  case 0x41...0x46: return b - 0x41 + 10
  case 0x61...0x66: return b - 0x61 + 10
  default: return nil
  }
}

/// Folder names as IMAP commands carry them. Pure.
public enum IMAPName {
  /// `name` in modified UTF-7 (RFC 3501 §5.1.3): printable ASCII stands for itself, "&" is
  /// "&-", anything else is UTF-16 in base64 (with "," for "/") between "&" and "-".
  public static func modifiedUTF7(_ name: String) -> String {
    var out = ""
    var pending: [UInt16] = []
    func flush() {
      guard !pending.isEmpty else { return }
      var bytes: [UInt8] = []
      for u in pending { bytes += [UInt8(u >> 8), UInt8(u & 0xFF)] }
      out += "&" + base64(bytes) + "-"
      pending = []
    }
    for scalar in name.unicodeScalars {
      let v = scalar.value
      if v >= 0x20 && v <= 0x7E {
        flush()
        out += v == 0x26 ? "&-" : String(scalar)
      } else {
        pending += Array(String(scalar).utf16)
      }
    }
    flush()
    return out
  }

  private static func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
    var out = ""
    var k = 0
    while k < bytes.count {
      let b0 = Int(bytes[k])
      let b1 = k + 1 < bytes.count ? Int(bytes[k + 1]) : 0
      let b2 = k + 2 < bytes.count ? Int(bytes[k + 2]) : 0
      out.append(alphabet[b0 >> 2])
      out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
      if k + 1 < bytes.count { out.append(alphabet[(b1 & 15) << 2 | b2 >> 6]) }
      if k + 2 < bytes.count { out.append(alphabet[b2 & 63]) }
      k += 3
    }
    return out
  }

  /// Whether two names denote the same mailbox: "INBOX" in any case is the inbox (RFC 3501
  /// §5.1), every other name is compared exactly.
  public static func sameMailbox(_ a: String, _ b: String) -> Bool {
    func canonical(_ s: String) -> String {
      let upper = s.uppercased()
      if upper == "INBOX" { return "INBOX" }
      return modifiedUTF7(s)
    }
    return canonical(a) == canonical(b)
  }

  /// `name` encoded and quoted for a command (RFC 3501 §4.3), or nil when it holds a control
  /// character (which a quoted string cannot carry) or is empty.
  public static func quoted(_ name: String) -> String? {
    guard !name.isEmpty,
      !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    else {
      return nil
    }
    var out = "\""
    for c in modifiedUTF7(name) {
      if c == "\"" || c == "\\" { out.append("\\") }
      out.append(c)
    }
    return out + "\""
  }
}

/// Where reading stopped last time: the mailbox's UIDVALIDITY and the highest UID handled.
/// The caller stores it between runs; a rerun then reads nothing twice.
public struct IMAPCursor: Sendable, Equatable, Codable {
  public var uidValidity: UInt32
  public var lastUID: UInt32

  public init(uidValidity: UInt32, lastUID: UInt32) {
    self.uidValidity = uidValidity
    self.lastUID = lastUID
  }
}

/// Which UIDs to ask for, given the stored cursor and the mailbox as it is now. Pure.
public struct IMAPReadPlan: Sendable, Equatable {
  /// The first UID that may be new; nil when nothing can be (no UID above the cursor exists).
  public var firstUID: UInt32?
  /// True when the mailbox was renumbered since the cursor was stored: everything is read again.
  public var restarted: Bool

  public init(firstUID: UInt32?, restarted: Bool) {
    self.firstUID = firstUID
    self.restarted = restarted
  }

  public init(cursor: IMAPCursor?, status: MailboxStatus) {
    // A UID means something only together with its UIDVALIDITY: when the server changes it, the
    // old UIDs may name other messages (RFC 3501 §2.3.1.1), so the cursor is worthless and the
    // mailbox is read from the start. Reading a message again is harmless (importing a report
    // twice changes nothing); skipping one would lose a bounce.
    guard let cursor, cursor.uidValidity == status.uidValidity else {
      self.init(firstUID: status.exists == 0 ? nil : 1, restarted: cursor != nil)
      return
    }
    guard cursor.lastUID < UInt32.max, status.exists > 0 else {
      self.init(firstUID: nil, restarted: false)
      return
    }
    let first = cursor.lastUID + 1
    if let next = status.uidNext, next <= first {
      self.init(firstUID: nil, restarted: false)
      return
    }
    self.init(firstUID: first, restarted: false)
  }

  /// The SEARCH command for this plan, or nil when there is nothing to ask.
  public var searchCommand: String? {
    firstUID.map { "UID SEARCH UID \($0):*" }
  }

  /// The UIDs of a SEARCH answer that are new. `n:*` also matches the highest UID when that is
  /// below n (RFC 3501 §6.4.8: "*" is the largest UID in use, and a range works either way), so
  /// the answer is filtered, not trusted.
  public func newUIDs(_ found: [UInt32]) -> [UInt32] {
    guard let firstUID else { return [] }
    return Array(Set(found.filter { $0 >= firstUID })).sorted()
  }
}
