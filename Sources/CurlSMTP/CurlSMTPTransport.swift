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

/// The server's reply lines while libcurl opens the session (greeting, EHLO, STARTTLS, EHLO),
/// for the capabilities and the error text.
private final class OpeningLines {
  var bytes: [UInt8] = []
}

private let headerCallback: herinner_io_callback = { buffer, size, count, user in
  let lines = Unmanaged<OpeningLines>.fromOpaque(user!).takeUnretainedValue()
  let n = size * count
  var line = UnsafeRawBufferPointer(start: buffer, count: n)[...]
  while let l = line.last, l == 0x0D || l == 0x0A { line = line.dropLast() }
  lines.bytes += line
  lines.bytes += [0x0D, 0x0A]
  return n
}

/// One SMTP connection. libcurl opens it (TCP, TLS or STARTTLS with verification, EHLO:
/// CURLOPT_CONNECT_ONLY); then this class carries out what the pure `SMTPLogin` and
/// `SMTPTransaction` decide, over curl_easy_send/curl_easy_recv: the login, then per message
/// MAIL, RCPT and DATA (pipelined where offered, RFC 2920), the message sent straight from its
/// buffer with dot-stuffing found by memchr. Consecutive messages reuse the connection.
/// Not thread-safe: one per thread.
///
/// - SeeAlso: https://curl.se/libcurl/c/curl_easy_send.html, CURLOPT_CONNECT_ONLY,
///   RFC 5321 §4.1.1 and §4.5.2 (transparency).
public final class CurlSMTPTransport: MailTransport {
  public let settings: SMTPSettings
  private var handle: UnsafeMutableRawPointer
  private var connected = false
  private var socket: curl_socket_t = -1
  /// From the EHLO after TLS.
  private(set) var capabilities = SMTPCapabilities()
  private var reader = SMTPReplyReader()
  /// One receive buffer for the connection's life.
  private var chunk = [UInt8](repeating: 0, count: 16384)
  private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

  public init(settings: SMTPSettings) {
    _ = curlInit
    self.settings = settings
    self.handle = curl_easy_init()
  }

  deinit {
    if connected { _ = write(Array("QUIT\r\n".utf8)) }
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
    let ssl = settings.security == .none ? CURLUSESSL_NONE : CURLUSESSL_ALL
    set(CURLOPT_USE_SSL, Int(ssl.rawValue))
    if let ca = settings.caFile { set(CURLOPT_CAINFO, ca) }
    // No CURLOPT_USERNAME: SMTPLogin logs in, so that a refused login ends with QUIT.
  }

  /// Opens the session (TCP, TLS, EHLO, login) without sending a message, so the batch can stop
  /// before it marks anything when the server cannot be used. It stays open for the first
  /// message.
  public func verify() throws(TransportError) {
    if !connected { try open() }
  }

  @available(*, deprecated, renamed: "verify")
  public func verifyConnection() throws(TransportError) { try verify() }

  /// Closes the connection without a word; a fresh handle serves the next session.
  private func disconnect() {
    curl_easy_cleanup(handle)
    handle = curl_easy_init()
    connected = false
    socket = -1
    reader = SMTPReplyReader()
  }

  private func end(_ fate: SMTPConnectionFate) {
    switch fate {
    case .keep: return
    case .quit:
      // RFC 5321 §4.1.1.10; the reply is waited for briefly, its content does not matter.
      if write(Array("QUIT\r\n".utf8)) == nil { _ = readInput(timeoutSeconds: 2) }
      disconnect()
    case .close: disconnect()
    }
  }

  private func open() throws(TransportError) {
    disconnect()
    curl_easy_reset(handle)
    configure()
    set(CURLOPT_CONNECT_ONLY, 1)
    let lines = OpeningLines()
    let user = Unmanaged.passRetained(lines)
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
    let replies = SMTPReplyReader.replies(in: lines.bytes)
    guard rc == CURLE_OK else {
      var code = 0
      var verify = 0
      _ = herinner_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
      _ = herinner_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verify)
      let detail = String(
        decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      disconnect()
      throw TransportError.opening(
        OpeningFailure(
          rc: rc, detail: detail, responseCode: code, verifyResult: verify,
          reply: replies?.last),
        settings: settings)
    }
    var s: curl_socket_t = -1
    _ = herinner_getinfo_socket(handle, &s)
    socket = s
    connected = true
    capabilities = SMTPCapabilities(session: replies ?? [])
    if let username = settings.username {
      // Credentials only over TLS, plaintext only to this machine (the config checks the same).
      guard settings.security != .none || ["127.0.0.1", "::1", "localhost"].contains(settings.host)
      else {
        end(.quit)
        throw TransportError(
          .tls,
          "a login over a connection without TLS to \(settings.host) would show the password: "
            + "set smtp.security to \"starttls\" or \"tls\"")
      }
      try login(username, settings.password ?? "")
    }
  }

  private func login(_ username: String, _ password: String) throws(TransportError) {
    var login = SMTPLogin(username: username, password: password, capabilities: capabilities)
    var action = login.start()
    while true {
      switch action {
      case .done: return
      case .refuse(let error, let fate):
        end(fate)
        throw error
      case .write(let bytes):
        if let why = write(bytes) {
          action = login.connectionLost(why)
          continue
        }
        switch readInput(timeoutSeconds: settings.timeoutSeconds) {
        case .reply(let r): action = login.replyReceived(r)
        case .malformed(let l): action = login.malformedReply(l)
        case .lost(let why): action = login.connectionLost(why)
        }
      }
    }
  }

  /// What the connection gave: a reply, a line that is none, or the end.
  enum Input {
    case reply(SMTPReply)
    case malformed(String)
    case lost(String)
  }

  /// Hands `message` to the server for `envelope`; returns the server's verdict.
  ///
  /// Throws `TransportError` when the server cannot be used or refuses us (unreachable, TLS,
  /// login, sender refused): then nothing of this message was delivered.
  public func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome
  {
    try send(message, envelope: envelope, handingOver: {})
  }

  /// The same; `handingOver` is called just before the final dot is written.
  public func send(
    _ message: [UInt8], envelope: Envelope, handingOver: () throws -> Void
  ) throws(TransportError) -> DeliveryOutcome {
    var mayRetry = true
    retry: while true {
      let reused = connected
      if !connected { try open() }
      var tx = SMTPTransaction(
        envelope: envelope, messageSize: message.count, capabilities: capabilities,
        reusedConnection: reused)
      var action = tx.start()
      while true {
        switch action {
        case .write(let bytes):
          if let why = write(bytes) {
            action = tx.connectionLost(why)
          } else {
            action = feed(&tx, readInput(timeoutSeconds: settings.timeoutSeconds))
          }
        case .readReply:
          action = feed(&tx, readInput(timeoutSeconds: settings.timeoutSeconds))
        case .checkNothingPending:
          action = pendingInput().map { feed(&tx, $0) } ?? tx.nothingPending()
        case .writeBody:
          action =
            writeBody(message, handingOver: handingOver).map { tx.connectionLost($0) }
            ?? tx.bodyWritten()
        case .finish(let outcome, let fate):
          end(fate)
          return outcome
        case .refuseSession(let error, let fate):
          end(fate)
          throw error
        case .reconnectAndRetry:
          end(.close)
          guard mayRetry else {
            return .deferred(code: 0, reply: "not sent: the server closed the connection again")
          }
          mayRetry = false
          continue retry
        }
      }
    }
  }

  private func feed(_ tx: inout SMTPTransaction, _ input: Input) -> SMTPTransaction.Action {
    switch input {
    case .reply(let r): return tx.replyReceived(r)
    case .malformed(let l): return tx.malformedReply(l)
    case .lost(let why): return tx.connectionLost(why)
    }
  }

  /// Waits until the socket is ready (POLLIN or POLLOUT); false when the timeout passed.
  private func wait(_ events: Int16, timeoutSeconds: Int) -> Bool {
    var p = pollfd(fd: socket, events: events, revents: 0)
    while true {
      let n = poll(&p, 1, Int32(timeoutSeconds * 1000))
      if n < 0 && errno == EINTR { continue }
      return n != 0
    }
  }

  /// Writes all of `bytes`; nil when done, else why not.
  private func write(_ bytes: UnsafeRawBufferPointer) -> String? {
    guard let base = bytes.baseAddress else { return nil }
    var offset = 0
    while offset < bytes.count {
      var n = 0
      let rc = curl_easy_send(handle, base + offset, bytes.count - offset, &n)
      if rc == CURLE_AGAIN {
        if !wait(Int16(POLLOUT), timeoutSeconds: settings.timeoutSeconds) {
          return "the server took nothing for \(settings.timeoutSeconds) s"
        }
        continue
      }
      guard rc == CURLE_OK else { return String(cString: curl_easy_strerror(rc)) }
      offset += n
    }
    return nil
  }

  private func write(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { write($0) }
  }

  /// Reads into the reply reader once: true when bytes came, false when nothing is there yet
  /// (CURLE_AGAIN), or why the connection ended.
  private func receive() -> Result<Bool, Lost> {
    var n = 0
    let rc = chunk.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &n) }
    if rc == CURLE_AGAIN { return .success(false) }
    guard rc == CURLE_OK else { return .failure(Lost(String(cString: curl_easy_strerror(rc)))) }
    if n == 0 { return .failure(Lost("the server closed the connection")) }
    reader.append(chunk[0..<n])
    return .success(true)
  }

  struct Lost: Error {
    var why: String
    init(_ why: String) { self.why = why }
  }

  /// The next reply, waiting up to `timeoutSeconds` for each chunk.
  private func readInput(timeoutSeconds: Int) -> Input {
    while true {
      switch reader.next() {
      case .reply(let r): return .reply(r)
      case .malformed(let l): return .malformed(l)
      case nil: break
      }
      switch receive() {
      case .failure(let lost): return .lost(lost.why)
      case .success(true): continue
      case .success(false):
        if !wait(Int16(POLLIN), timeoutSeconds: timeoutSeconds) {
          return .lost("no answer within \(timeoutSeconds) s")
        }
      }
    }
  }

  /// Whatever has arrived without waiting: nil when nothing.
  private func pendingInput() -> Input? {
    switch reader.next() {
    case .reply(let r): return .reply(r)
    case .malformed(let l): return .malformed(l)
    case nil: break
    }
    switch receive() {
    case .failure(let lost): return .lost(lost.why)
    case .success(false): return reader.hasPendingInput ? .malformed("an unfinished line") : nil
    case .success(true):
      switch reader.next() {
      case .reply(let r): return .reply(r)
      case .malformed(let l): return .malformed(l)
      case nil: return .malformed("an unfinished line")
      }
    }
  }

  /// The message, dot-stuffed (a line that starts with "." gets one more, RFC 5321 §4.5.2),
  /// then CRLF . CRLF, `handingOver` called before the final dot. Nil when all is written, else
  /// why not.
  private func writeBody(_ message: [UInt8], handingOver: () throws -> Void) -> String? {
    let dot: [UInt8] = [UInt8(ascii: ".")]
    let failed: String? = message.withUnsafeBytes { m in
      guard let base = m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count > 0 else {
        return nil
      }
      var start = 0
      var searchFrom = 0
      while start < m.count {
        let i = herinner_next_line_dot(base, m.count, searchFrom)
        if let why = write(UnsafeRawBufferPointer(start: base + start, count: i - start)) {
          return why
        }
        guard i < m.count else { break }
        if let why = write(dot) { return why }  // the line's own "." follows with the next piece
        start = i
        searchFrom = i + 1
      }
      return nil
    }
    if let failed { return failed }
    do { try handingOver() } catch { return "\(error)" }
    let endsWithCRLF =
      message.count >= 2 && message[message.count - 2] == 0x0D
      && message[message.count - 1] == 0x0A
    return write(Array((endsWithCRLF ? ".\r\n" : "\r\n.\r\n").utf8))
  }
}
