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

/// Per-transfer state the C callbacks reach through their user pointer.
private final class Transfer {
  var data: [UInt8]
  var offset = 0
  var uploadDone = false
  var replies: [String] = []
  /// A 2xx reply that came after the whole message was handed over: the server took it.
  var finalOK: String?
  var finalAfterData: String?
  /// RCPT TO commands awaiting their reply, and each recipient's reply, in order.
  var pendingRecipients: [String] = []
  var recipientReplies: [String: String] = [:]
  init(data: [UInt8]) { self.data = data }
}

/// Pairs each RCPT TO with the server's reply to it (libcurl's debug stream; nothing is printed,
/// and only RCPT lines are kept: AUTH lines never leave libcurl's buffer).
private let debugCallback: herinner_debug_callback = { _, type, data, size, user in
  // The message body passes through here too (DATA_OUT): skip everything but command lines.
  guard type == CURLINFO_HEADER_OUT || type == CURLINFO_HEADER_IN, let user, let data else {
    return 0
  }
  let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
  let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
  // "\r\n" is one Character in Swift: split on any newline.
  for line in text.split(whereSeparator: \.isNewline) {
    if type == CURLINFO_HEADER_OUT, line.uppercased().hasPrefix("RCPT TO:") {
      let address = line.dropFirst(8).trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
      t.pendingRecipients.append(address)
    } else if type == CURLINFO_HEADER_IN, !t.pendingRecipients.isEmpty, line.count >= 4,
      line[line.index(line.startIndex, offsetBy: 3)] == " "
    {
      t.recipientReplies[t.pendingRecipients.removeFirst()] = String(line)
    }
  }
  return 0
}

private let readCallback: herinner_io_callback = { buffer, size, count, user in
  let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
  let room = size * count
  let remaining = t.data.count - t.offset
  if remaining <= 0 {
    t.uploadDone = true
    return 0
  }
  let n = min(room, remaining)
  t.data.withUnsafeBytes { src in
    buffer!.withMemoryRebound(to: UInt8.self, capacity: n) { dst in
      dst.update(
        from: src.baseAddress!.advanced(by: t.offset).assumingMemoryBound(to: UInt8.self), count: n)
    }
  }
  t.offset += n
  return n
}

/// HELP's text arrives as body data: read and dropped.
private let discardCallback: herinner_io_callback = { _, size, count, _ in size * count }

private let headerCallback: herinner_io_callback = { buffer, size, count, user in
  let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
  let n = size * count
  // The reply line without the spaces, tabs and CR LF around it (bytes, not Foundation: this
  // runs for every reply of every message).
  var bytes = UnsafeRawBufferPointer(start: buffer, count: n)[...]
  while let f = bytes.first, f <= 0x20 { bytes = bytes.dropFirst() }
  while let l = bytes.last, l <= 0x20 { bytes = bytes.dropLast() }
  let line = String(decoding: bytes, as: UTF8.self)
  if !line.isEmpty {
    t.replies.append(line)
    if t.uploadDone || t.offset >= t.data.count {
      t.finalAfterData = line
      if line.hasPrefix("2") { t.finalOK = line }
    }
  }
  return n
}

/// An SMTP connection on one libcurl easy handle: consecutive messages reuse the connection
/// (no new EHLO, STARTTLS or AUTH). Not thread-safe: one per thread.
///
/// - SeeAlso: https://curl.se/libcurl/c/smtp-mail.html, CURLOPT_MAIL_FROM, CURLOPT_MAIL_RCPT,
///   CURLOPT_USE_SSL, CURLOPT_HEADERFUNCTION.
public final class CurlSMTPTransport: MailTransport {
  public let settings: SMTPSettings
  private let handle: UnsafeMutableRawPointer
  private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

  public init(settings: SMTPSettings) {
    _ = curlInit
    self.settings = settings
    self.handle = curl_easy_init()
  }

  deinit { curl_easy_cleanup(handle) }

  private func set(_ o: CURLoption, _ v: Int) { _ = herinner_setopt_long(handle, o, v) }
  private func set(_ o: CURLoption, _ v: String) { _ = herinner_setopt_string(handle, o, v) }

  /// Hands `message` to the server for `envelope`; returns the server's verdict.
  ///
  /// Throws `TransportError` when the server cannot be used at all (unreachable, TLS, login):
  /// then nothing was delivered.
  public func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome
  {
    curl_easy_reset(handle)
    configure()
    set(CURLOPT_MAIL_FROM, "<\(envelope.from)>")
    var rcpt: UnsafeMutablePointer<curl_slist>? = nil
    for r in envelope.recipients { rcpt = curl_slist_append(rcpt, "<\(r)>") }
    defer { curl_slist_free_all(rcpt) }
    _ = herinner_setopt_slist(handle, CURLOPT_MAIL_RCPT, rcpt)
    // Go on when one recipient (a Bcc) is refused; the primary recipient's verdict is read
    // from its own RCPT reply below.
    set(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1)
    set(CURLOPT_UPLOAD, 1)
    _ = herinner_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
    let transfer = Transfer(data: message)
    let user = Unmanaged.passRetained(transfer)
    defer { user.release() }
    _ = herinner_setopt_callback(handle, CURLOPT_READFUNCTION, readCallback)
    _ = herinner_setopt_pointer(handle, CURLOPT_READDATA, user.toOpaque())
    _ = herinner_setopt_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback)
    _ = herinner_setopt_pointer(handle, CURLOPT_HEADERDATA, user.toOpaque())
    if envelope.recipients.count > 1 {
      // Only with several recipients (a Bcc) is there a per-recipient verdict to pair up; the
      // debug stream costs throughput, so a single recipient goes without it.
      _ = herinner_setopt_debug(handle, debugCallback)
      _ = herinner_setopt_pointer(handle, CURLOPT_DEBUGDATA, user.toOpaque())
      set(CURLOPT_VERBOSE, 1)
    }
    errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let rc = errorBuffer.withUnsafeMutableBufferPointer { buf -> CURLcode in
      _ = herinner_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buf.baseAddress)
      let rc = curl_easy_perform(handle)
      _ = herinner_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
      return rc
    }
    var code = 0
    _ = herinner_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
    let detail = String(
      decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // Per recipient: the primary recipient's refusal decides; a refused Bcc is only noted.
    let primary = envelope.recipients.first ?? ""
    if let r = transfer.recipientReplies[primary], let code = Int(r.prefix(3)), code >= 400 {
      return code >= 500 ? .rejected(code: code, reply: r) : .deferred(code: code, reply: r)
    }
    let refusedOthers = envelope.recipients.dropFirst().compactMap { a -> String? in
      guard let r = transfer.recipientReplies[a], let c = Int(r.prefix(3)), c >= 400 else {
        return nil
      }
      return "\(a): \(r)"
    }
    let outcome = try Self.classify(
      rc: Int(rc.rawValue), code: code,
      lastReply: transfer.replies.last { $0.hasPrefix(String(code)) } ?? transfer.replies.last,
      finalOK: transfer.finalOK,
      uploadComplete: transfer.uploadDone || transfer.offset >= message.count,
      curlText: String(cString: curl_easy_strerror(rc)), detail: detail, settings: settings)
    if case .accepted(let c, let reply) = outcome, !refusedOthers.isEmpty {
      return .accepted(
        code: c, reply: reply + " (refused: " + refusedOthers.joined(separator: "; ") + ")")
    }
    return outcome
  }

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

  /// Opens the connection (TCP, TLS, EHLO, AUTH) without sending a message, so the batch can
  /// stop before it marks anything when the server cannot be used. libcurl sends HELP here;
  /// any reply to it proves the session works. The connection stays open for the first message.
  public func verifyConnection() throws(TransportError) {
    curl_easy_reset(handle)
    configure()
    let transfer = Transfer(data: [])
    let user = Unmanaged.passRetained(transfer)
    defer { user.release() }
    _ = herinner_setopt_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback)
    _ = herinner_setopt_pointer(handle, CURLOPT_HEADERDATA, user.toOpaque())
    _ = herinner_setopt_pointer(handle, CURLOPT_WRITEDATA, user.toOpaque())
    _ = herinner_setopt_callback(handle, CURLOPT_WRITEFUNCTION, discardCallback)
    let rc = curl_easy_perform(handle)
    var code = 0
    _ = herinner_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
    let outcome = try Self.classify(
      rc: Int(rc.rawValue), code: code, lastReply: transfer.replies.last, finalOK: nil,
      uploadComplete: false,
      curlText: String(cString: curl_easy_strerror(rc)), detail: "", settings: settings)
    if code == 0, case .deferred = outcome {
      throw TransportError(
        kind: .unreachable,
        message: "no SMTP session with \(settings.host):\(settings.port): \(outcome.reply)")
    }
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
