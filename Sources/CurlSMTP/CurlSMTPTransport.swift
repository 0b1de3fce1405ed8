import CCurl
import Foundation
import HerinnerCore

/// How to reach and authenticate to the SMTP server. The password is held only in memory and
/// never printed (`description` redacts it).
public struct SMTPSettings: Sendable, CustomStringConvertible {
  public enum Security: String, Sendable { case starttls, tls, none }
  public var host: String
  public var port: Int
  public var security: Security
  public var username: String?
  public var password: String?
  public var caFile: String?
  public var timeoutSeconds: Int
  /// The name sent in EHLO.
  public var heloName: String

  public init(
    host: String, port: Int, security: Security, username: String? = nil, password: String? = nil,
    caFile: String? = nil, timeoutSeconds: Int = 60, heloName: String = "localhost"
  ) {
    self.host = host
    self.port = port
    self.security = security
    self.username = username
    self.password = password
    self.caFile = caFile
    self.timeoutSeconds = timeoutSeconds
    self.heloName = heloName
  }

  public var url: String {
    let scheme = security == .tls ? "smtps" : "smtp"
    return "\(scheme)://\(host):\(port)/\(heloName)"
  }

  public var description: String {
    "\(url) security=\(security.rawValue) user=\(username ?? "-") password=\(password == nil ? "-" : "<redacted>")"
  }
}

private let curlInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

/// The server's reply lines during libcurl's part of the session (greeting, EHLO, STARTTLS,
/// AUTH), for the error text and the EHLO keywords.
private final class Replies {
  var lines: [String] = []
}

private let headerCallback: herinner_io_callback = { buffer, size, count, user in
  let t = Unmanaged<Replies>.fromOpaque(user!).takeUnretainedValue()
  let n = size * count
  // The reply line without the spaces, tabs and CR LF around it.
  var bytes = UnsafeRawBufferPointer(start: buffer, count: n)[...]
  while let f = bytes.first, f <= 0x20 { bytes = bytes.dropFirst() }
  while let l = bytes.last, l <= 0x20 { bytes = bytes.dropLast() }
  if !bytes.isEmpty { t.lines.append(String(decoding: bytes, as: UTF8.self)) }
  return n
}

/// One SMTP connection: libcurl opens it (TCP, TLS or STARTTLS with verification, EHLO, AUTH:
/// CURLOPT_CONNECT_ONLY), then herinner speaks the mail transaction itself over
/// curl_easy_send/curl_easy_recv: MAIL, RCPT and DATA pipelined where the server offers
/// PIPELINING (RFC 2920), the message sent straight from its buffer with dot-stuffing found by
/// memmem, each recipient's reply read on its own. Consecutive messages reuse the connection.
/// Not thread-safe: one per thread.
///
/// Why not libcurl's own SMTP upload: it copies every byte of the message through its
/// end-of-data escaping loop and its upload buffer, and waits for each command's reply before
/// the next; that was a sixth of a night's CPU (Benchmarks/RESULTS.md).
///
/// - SeeAlso: https://curl.se/libcurl/c/curl_easy_send.html, CURLOPT_CONNECT_ONLY,
///   RFC 5321 §4.1.1 and §4.5.2 (transparency), RFC 2920 (pipelining).
public final class CurlSMTPTransport: MailTransport {
  public let settings: SMTPSettings
  private var handle: UnsafeMutableRawPointer
  private var connected = false
  private var socket: curl_socket_t = -1
  private var pipelining = false
  /// Received bytes not yet parsed into replies.
  private var inbox: [UInt8] = []
  private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

  public init(settings: SMTPSettings) {
    _ = curlInit
    self.settings = settings
    self.handle = curl_easy_init()
  }

  deinit {
    if connected { try? write(Array("QUIT\r\n".utf8)) }
    curl_easy_cleanup(handle)
  }

  private func set(_ o: CURLoption, _ v: Int) { _ = herinner_setopt_long(handle, o, v) }
  private func set(_ o: CURLoption, _ v: String) { _ = herinner_setopt_string(handle, o, v) }

  private func configure() {
    set(CURLOPT_URL, settings.url)
    set(CURLOPT_NOSIGNAL, 1)
    set(CURLOPT_CONNECTTIMEOUT, settings.timeoutSeconds)
    set(CURLOPT_TIMEOUT, settings.timeoutSeconds)
    // Verification stays on (libcurl's default); say so explicitly.
    set(CURLOPT_SSL_VERIFYPEER, 1)
    set(CURLOPT_SSL_VERIFYHOST, 2)
    switch settings.security {
    case .starttls: set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
    case .tls: set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
    case .none: set(CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
    }
    if let ca = settings.caFile { set(CURLOPT_CAINFO, ca) }
    // Credentials only over TLS, except to loopback (the config refuses anything else).
    if let u = settings.username {
      set(CURLOPT_USERNAME, u)
      set(CURLOPT_PASSWORD, settings.password ?? "")
    }
  }

  /// Opens the session (TCP, TLS, EHLO, AUTH) without sending a message, so the batch can stop
  /// before it marks anything when the server cannot be used. It stays open for the first
  /// message.
  public func verifyConnection() throws(TransportError) {
    try connect()
  }

  private func disconnect() {
    guard connected else { return }
    // Closing the easy handle closes its connection; a fresh one serves the next session.
    curl_easy_cleanup(handle)
    handle = curl_easy_init()
    connected = false
    socket = -1
    inbox = []
  }

  private func connect() throws(TransportError) {
    disconnect()
    curl_easy_reset(handle)
    configure()
    set(CURLOPT_CONNECT_ONLY, 1)
    let replies = Replies()
    let user = Unmanaged.passRetained(replies)
    defer { user.release() }
    _ = herinner_setopt_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback)
    _ = herinner_setopt_pointer(handle, CURLOPT_HEADERDATA, user.toOpaque())
    errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let rc = errorBuffer.withUnsafeMutableBufferPointer { buf -> CURLcode in
      _ = herinner_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buf.baseAddress)
      let rc = curl_easy_perform(handle)
      _ = herinner_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
      return rc
    }
    // The connection may stay open without a handler: a session that failed is closed.
    if rc != CURLE_OK {
      var code = 0
      _ = herinner_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
      curl_easy_cleanup(handle)
      handle = curl_easy_init()
      let detail = String(
        decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      let outcome = try Self.classify(
        rc: Int(rc.rawValue), code: code, lastReply: replies.lines.last, finalOK: nil,
        uploadComplete: false, curlText: String(cString: curl_easy_strerror(rc)),
        detail: detail, settings: settings)
      throw TransportError(
        kind: .unreachable,
        message: "no SMTP session with \(settings.host):\(settings.port): \(outcome.reply)")
    }
    var s: curl_socket_t = -1
    _ = herinner_getinfo_socket(handle, &s)
    socket = s
    // EHLO keywords: "250-PIPELINING" or "250 PIPELINING".
    pipelining = replies.lines.contains {
      $0.count > 4 && $0.dropFirst(4).uppercased().hasPrefix("PIPELINING")
    }
    connected = true
    inbox = []
  }

  /// The connection broke (or timed out) mid-transaction.
  struct Lost: Error {
    var why: String
  }

  /// Why a transaction ended without a verdict.
  enum Failure: Error {
    case lost(Lost)
    /// The server refused the session itself (530 and kin): it cannot be used.
    case refused(TransportError)
  }

  /// Waits until the socket is ready (POLLIN or POLLOUT) or the timeout passes.
  private func wait(_ events: Int16) throws {
    var p = pollfd(fd: socket, events: events, revents: 0)
    while true {
      let n = poll(&p, 1, Int32(settings.timeoutSeconds * 1000))
      if n < 0 && errno == EINTR { continue }
      if n == 0 { throw Lost(why: "no answer within \(settings.timeoutSeconds) s") }
      return
    }
  }

  private func write(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      var n = 0
      let rc = curl_easy_send(handle, bytes.baseAddress! + offset, bytes.count - offset, &n)
      if rc == CURLE_AGAIN {
        try wait(Int16(POLLOUT))
        continue
      }
      guard rc == CURLE_OK else { throw Lost(why: String(cString: curl_easy_strerror(rc))) }
      offset += n
    }
  }

  private func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// One reply: its code and its last line ("250 2.0.0 Ok: queued as 4F2…").
  private func readReply() throws -> (code: Int, line: String) {
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
      // A complete reply is a run of lines whose last has a space (or nothing) after the code.
      var start = 0
      var i = 0
      while i + 1 < inbox.count {
        if inbox[i] == 0x0D && inbox[i + 1] == 0x0A {
          let line = inbox[start..<i]
          if line.count < 4 || line[line.startIndex + 3] != UInt8(ascii: "-") {
            let text = String(decoding: line, as: UTF8.self)
            let code = Int(text.prefix(3)) ?? 0
            inbox.removeSubrange(0..<(i + 2))
            return (code, text)
          }
          start = i + 2
          i += 2
          continue
        }
        i += 1
      }
      var n = 0
      let rc = chunk.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &n) }
      if rc == CURLE_AGAIN {
        try wait(Int16(POLLIN))
        continue
      }
      guard rc == CURLE_OK else { throw Lost(why: String(cString: curl_easy_strerror(rc))) }
      if n == 0 { throw Lost(why: "the server closed the connection") }
      inbox += chunk[0..<n]
    }
  }

  /// Hands `message` to the server for `envelope`; returns the server's verdict.
  ///
  /// Throws `TransportError` when the server cannot be used at all (unreachable, TLS, login):
  /// then nothing was delivered.
  public func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome
  {
    for address in [envelope.from] + envelope.recipients
    where address.utf8.contains(where: { $0 < 0x20 || $0 == 0x3C || $0 == 0x3E }) {
      return .rejected(
        code: 0, reply: "not sent: the address \(address.debugDescription) is invalid")
    }
    var retried = false
    while true {
      let reused = connected
      if !connected { try connect() }
      var progress = Progress.none
      let lost: Lost
      do {
        return try transaction(message, envelope, &progress)
      } catch {
        disconnect()
        switch error {
        case .refused(let e): throw e
        case .lost(let l): lost = l
        }
      }
      do {
        let error = lost
        // An idle connection the server closed meanwhile: nothing was said yet, open a new one.
        if reused && progress == .none && !retried {
          retried = true
          continue
        }
        if progress == .delivered {
          return .unknown(
            reason:
              "connection lost after the message was sent, before the server's reply: \(error.why)")
        }
        return .deferred(code: 0, reply: "connection lost before the end of DATA: \(error.why)")
      }
    }
  }

  enum Progress { case none, replied, delivered }

  /// MAIL, RCPT, DATA, the message, the final reply. Replies decide the outcome; a broken
  /// connection throws `Lost` (with how far the transaction got) and `SessionRefused` when the
  /// server refuses the session itself (530 and kin).
  private func transaction(
    _ message: [UInt8], _ envelope: Envelope, _ progress: inout Progress
  ) throws(Failure) -> DeliveryOutcome {
    do {
      return try transactionSteps(message, envelope, &progress)
    } catch let e as Lost {
      throw .lost(e)
    } catch let e as TransportError {
      throw .refused(e)
    } catch {
      throw .lost(Lost(why: "\(error)"))
    }
  }

  /// A 530, 534, 535 or 538: the session itself is refused (TLS or login required, failed).
  func sessionRefusal(_ r: (code: Int, line: String)) -> TransportError? {
    guard [530, 534, 535, 538].contains(r.code) else { return nil }
    return TransportError(
      kind: r.code == 535 ? .login : .tls, message: "the server refused: \(r.line)")
  }

  private func transactionSteps(
    _ message: [UInt8], _ envelope: Envelope, _ progress: inout Progress
  ) throws -> DeliveryOutcome {
    let recipients = envelope.recipients
    guard !recipients.isEmpty else { return .rejected(code: 0, reply: "not sent: no recipient") }
    var commands = ["MAIL FROM:<\(envelope.from)>\r\n"] + recipients.map { "RCPT TO:<\($0)>\r\n" }
    // DATA goes in the same write only with one recipient: with a Bcc the customer's RCPT
    // reply must be read before DATA (a refused customer with an accepted Bcc sends nothing).
    let dataPipelined = pipelining && recipients.count == 1
    if dataPipelined { commands.append("DATA\r\n") }
    var replies: [(code: Int, line: String)] = []
    if pipelining {
      try write(Array(commands.joined().utf8))
      for _ in commands { replies.append(try readReply()) }
    } else {
      for c in commands {
        try write(Array(c.utf8))
        let r = try readReply()
        replies.append(r)
        if c.hasPrefix("MAIL") && r.code >= 400 { break }
      }
    }
    // 421 to MAIL: the server is closing this (idle) connection; nothing was said yet.
    if replies[0].code == 421 { throw Lost(why: replies[0].line) }
    progress = .replied
    let mail = replies[0]
    if let refused = sessionRefusal(mail) { throw refused }
    var outcome: DeliveryOutcome? = nil
    if mail.code >= 400 {
      outcome = Self.verdict(mail)
    } else if replies.count > 1 {
      let primary = replies[1]
      if let refused = sessionRefusal(primary) { throw refused }
      if primary.code >= 400 { outcome = Self.verdict(primary) }
    }
    var refusedOthers: [String] = []
    for (k, r) in replies.dropFirst(2).prefix(recipients.count - 1).enumerated() where r.code >= 400
    {
      refusedOthers.append("\(recipients[k + 1]): \(r.line)")
    }
    var dataReply: (code: Int, line: String)? = dataPipelined ? replies.last : nil
    if outcome == nil && dataReply == nil {
      try write(Array("DATA\r\n".utf8))
      dataReply = try readReply()
    }
    if let d = dataReply, d.code != 354, outcome == nil {
      outcome = Self.verdict(d)
    }
    if let outcome {
      if outcome.code == 421 {
        // The server is closing the connection: the next message opens a new one.
        disconnect()
        return outcome
      }
      if dataReply?.code == 354 {
        // The server opened DATA although the transaction failed: close it empty.
        try write(Array(".\r\n".utf8))
        _ = try readReply()
      }
      try write(Array("RSET\r\n".utf8))
      _ = try readReply()
      return outcome
    }
    try writeBody(message)
    progress = .delivered
    let final = try readReply()
    if let refused = sessionRefusal(final) { throw refused }
    var result = Self.verdict(final)
    if final.code == 421 { disconnect() }
    if case .accepted(let c, let reply) = result, !refusedOthers.isEmpty {
      result = .accepted(
        code: c, reply: reply + " (refused: " + refusedOthers.joined(separator: "; ") + ")")
    }
    return result
  }

  /// 2xx accepted, 4xx deferred, 5xx rejected.
  static func verdict(_ r: (code: Int, line: String)) -> DeliveryOutcome {
    if (200..<300).contains(r.code) { return .accepted(code: r.code, reply: r.line) }
    if (500..<600).contains(r.code) { return .rejected(code: r.code, reply: r.line) }
    return .deferred(code: r.code, reply: r.line)
  }

  /// The message, dot-stuffed (a line that starts with "." gets one more), then CRLF . CRLF.
  private func writeBody(_ message: [UInt8]) throws {
    let dot: [UInt8] = [UInt8(ascii: ".")]
    try message.withUnsafeBytes { m in
      guard let base = m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count > 0 else {
        return
      }
      var start = 0
      var searchFrom = 0
      while start < m.count {
        let i = herinner_next_line_dot(base, m.count, searchFrom)
        try write(UnsafeRawBufferPointer(start: base + start, count: i - start))
        guard i < m.count else { break }
        try write(dot)  // the line's own "." follows with the next piece
        start = i
        searchFrom = i + 1
      }
    }
    let endsWithCRLF =
      message.count >= 2 && message[message.count - 2] == 0x0D
      && message[message.count - 1] == 0x0A
    try write(Array((endsWithCRLF ? ".\r\n" : "\r\n.\r\n").utf8))
  }

  /// Maps a CURLcode and the server's last reply to an outcome. Pure.
  static func classify(
    rc: Int, code: Int, lastReply: String?, finalOK: String?, uploadComplete: Bool,
    curlText: String,
    detail: String, settings: SMTPSettings
  ) throws(TransportError) -> DeliveryOutcome {
    let reply = lastReply ?? ""
    let why = detail.isEmpty ? curlText : detail
    // The server's final 250 after DATA means it took the message, whatever libcurl says next
    // (curl issue 8356: an error can follow the 250).
    if let ok = finalOK, uploadComplete { return .accepted(code: 250, reply: ok) }
    if rc == 0 { return .accepted(code: code, reply: reply) }
    switch rc {
    case 6:  // COULDNT_RESOLVE_HOST
      throw TransportError(kind: .unreachable, message: "cannot resolve \(settings.host): \(why)")
    case 7:  // COULDNT_CONNECT
      throw TransportError(
        kind: .unreachable, message: "cannot connect to \(settings.host):\(settings.port): \(why)")
    case 28 where !uploadComplete && code == 0:  // timed out before the server said anything useful
      throw TransportError(
        kind: .unreachable,
        message: "timed out talking to \(settings.host):\(settings.port): \(why)")
    case 35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91:
      throw TransportError(
        kind: .tls,
        message: "TLS with \(settings.host) failed (certificates are always verified): \(why)")
    case 67:
      throw TransportError(
        kind: .login,
        message: "the server refused the login for \(settings.username ?? "?"): \(reply)")
    default: break
    }
    if code == 530 || code == 534 || code == 535 || code == 538 {
      throw TransportError(
        kind: code == 535 ? .login : .tls, message: "the server refused: \(reply)")
    }
    if (500..<600).contains(code) { return .rejected(code: code, reply: reply) }
    if (400..<500).contains(code) { return .deferred(code: code, reply: reply) }
    // The connection broke. Before the message was fully handed over, nothing was delivered;
    // once every byte is in the socket the server may have queued it: only a person can tell,
    // so it is `unknown`, never retried automatically.
    if uploadComplete {
      return .unknown(
        reason: "connection lost after the message was sent, before the server's reply: \(why)")
    }
    return .deferred(code: code, reply: "connection lost before the end of DATA: \(why)")
  }
}
