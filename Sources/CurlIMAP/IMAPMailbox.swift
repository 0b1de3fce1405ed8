import CCurl
import HerinnerCore

private let curlInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

/// Everything the server sent during one perform, byte for byte.
private final class Received {
  var bytes: [UInt8] = []
}

// libcurl hands every line the server sends to the header function (literals included, lines
// as they come); together they are the exact answer.
private let headerCallback: herinner_io_callback = { buffer, size, count, user in
  let n = size * count
  guard let user, let buffer else { return n }
  let r = Unmanaged<Received>.fromOpaque(user).takeUnretainedValue()
  r.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: n))
  return n
}

// For a custom command libcurl also writes the untagged lines as "body": the header copy is the
// complete one, so this one is dropped.
private let discardCallback: herinner_io_callback = { _, size, count, _ in size * count }

/// One IMAP mailbox over libcurl (imaps://, certificates always verified), for reading returned
/// mail: open it, list the UIDs above a cursor, fetch a message's exact bytes, then move it to
/// a folder or flag it `\Seen`.
///
/// libcurl opens the connection (TLS, login) and keeps it between calls; every command is sent
/// with CURLOPT_CUSTOMREQUEST and its answer read by `IMAPResponseParser` from what the header
/// function received. Blocking: call it from a thread of its own, not the cooperative pool. Not
/// thread-safe.
///
///     let mailbox = IMAPMailbox(settings: settings)
///     let found = try mailbox.newMessages(after: storedCursor)
///     for uid in found.uids {
///       if let bytes = try mailbox.message(uid: uid) { /* import the report */ }
///       try mailbox.markProcessed(uid: uid, moveTo: processedFolder)
///       storedCursor = found.cursor(after: uid)
///     }
///
/// - SeeAlso: https://curl.se/libcurl/c/CURLOPT_CUSTOMREQUEST.html (IMAP),
///   https://everything.curl.dev/usingcurl/reademail, RFC 3501, RFC 6851 (MOVE),
///   RFC 4315 (UIDPLUS).
public final class IMAPMailbox {
  public let settings: IMAPSettings
  private var handle: UnsafeMutableRawPointer?
  private var endpoint: IMAPEndpoint?
  /// The mailbox as SELECT last reported it; nil until `open()`.
  public private(set) var status: MailboxStatus?
  /// What the server offers after login (upper-cased), e.g. `MOVE`, `UIDPLUS`.
  public private(set) var capabilities: Set<String> = []
  /// Folders known to exist (checked or created during this session).
  private var knownFolders: Set<String> = []

  public init(settings: IMAPSettings) {
    _ = curlInit
    self.settings = settings
  }

  deinit {
    // Cleaning up the handle sends LOGOUT on a live connection.
    if let handle { curl_easy_cleanup(handle) }
  }

  // MARK: - The operations

  /// Connects, logs in and selects the mailbox (read-write: messages are moved or flagged).
  @discardableResult
  public func open() throws(IMAPError) -> MailboxStatus {
    let ep = try settings.endpoint()
    endpoint = ep
    closeConnection()
    let caps = try perform("CAPABILITY")
    guard caps.status == .ok else {
      throw protocolError("refused CAPABILITY", reply: caps)
    }
    capabilities = caps.capabilities()
    return try select()
  }

  /// The UIDs of the messages that arrived after `cursor`, ascending. With no cursor, or one
  /// whose UIDVALIDITY the server no longer has, every message counts as new. Selects the
  /// mailbox again when it is open, so that UIDNEXT is current.
  public func newMessages(after cursor: IMAPCursor?) throws(IMAPError) -> NewMessages {
    let current = try status == nil ? open() : select()
    let plan = IMAPReadPlan(cursor: cursor, status: current)
    guard let command = plan.searchCommand else {
      return NewMessages(uids: [], uidValidity: current.uidValidity, restarted: plan.restarted)
    }
    let reply = try mailboxCommand(command)
    guard reply.status == .ok else { throw protocolError("refused UID SEARCH", reply: reply) }
    let found: [UInt32]
    do {
      found = try reply.searchResults()
    } catch {
      throw unreadable(error)
    }
    // mailboxCommand refuses to go on if the mailbox was renumbered meanwhile.
    return NewMessages(
      uids: plan.newUIDs(found), uidValidity: current.uidValidity, restarted: plan.restarted)
  }

  /// The message's bytes exactly as stored, or nil when it is no longer in the mailbox. Reads
  /// with BODY.PEEK[], so the message is not marked `\Seen` by reading it (RFC 3501 §6.4.5).
  ///
  /// libcurl reads a custom command's answer line by line and ends it at the first line that
  /// starts with the command's tag (`A007 `), even inside the message, and cuts lines longer
  /// than half its buffer. The literal's size shows either: then the message is fetched once
  /// more through libcurl's own FETCH (RFC 5092 URL `;UID=`), which reads the literal by its
  /// size, but with BODY[], so that message is marked `\Seen`.
  public func message(uid: UInt32) throws(IMAPError) -> [UInt8]? {
    if status == nil { try open() }
    let reply: IMAPReply
    do {
      reply = try mailboxCommand("UID FETCH \(uid) (UID BODY.PEEK[])")
    } catch {
      guard answerUnreadable else { throw error }
      return try fetchThroughLibcurl(uid: uid)
    }
    guard reply.status == .ok else { throw protocolError("refused UID FETCH", reply: reply) }
    do {
      return try reply.fetchedBody(uid: uid)
    } catch {
      throw unreadable(error)
    }
  }

  /// Done with message `uid`: moved to `folder` (created when missing, its name as the server
  /// spells it, e.g. `INBOX/herinner` or `INBOX.herinner`), or with no folder flagged `\Seen`
  /// and left in place.
  public func markProcessed(uid: UInt32, moveTo folder: String?) throws(IMAPError) {
    if status == nil { try open() }
    guard let folder else {
      let r = try mailboxCommand("UID STORE \(uid) +FLAGS.SILENT (\\Seen)")
      guard r.status == .ok else { throw mailboxError("could not flag message \(uid) as read", r) }
      return
    }
    guard let name = IMAPName.quoted(folder) else {
      throw IMAPError(
        .settings,
        "bounces.processedFolder \(folder.debugDescription) is empty or holds a control character")
    }
    if let mailbox = endpoint?.mailbox, IMAPName.sameMailbox(mailbox, folder) {
      throw IMAPError(
        .settings,
        "bounces.processedFolder is the mailbox that is read (\(folder)); name another folder")
    }
    try ensureFolder(folder, quoted: name)
    if capabilities.contains("MOVE") {
      let r = try mailboxCommand("UID MOVE \(uid) \(name)")
      guard r.status == .ok else { throw mailboxError("could not move message \(uid)", r) }
      return
    }
    // Without MOVE (RFC 6851 §3.3): copy, mark the original deleted, expunge. UID EXPUNGE
    // (RFC 4315 §2.1) removes only this message; plain EXPUNGE also removes whatever else the
    // user had marked deleted, so it is the fallback only for servers without UIDPLUS.
    let copy = try mailboxCommand("UID COPY \(uid) \(name)")
    guard copy.status == .ok else { throw mailboxError("could not copy message \(uid)", copy) }
    let store = try mailboxCommand("UID STORE \(uid) +FLAGS.SILENT (\\Deleted)")
    guard store.status == .ok else {
      throw mailboxError("copied message \(uid) but could not mark the original deleted", store)
    }
    let expunge = try mailboxCommand(
      capabilities.contains("UIDPLUS") ? "UID EXPUNGE \(uid)" : "EXPUNGE")
    guard expunge.status == .ok else {
      throw mailboxError("copied message \(uid) but could not remove the original", expunge)
    }
  }

  // MARK: - Folders

  private func ensureFolder(_ folder: String, quoted name: String) throws(IMAPError) {
    guard !knownFolders.contains(folder) else { return }
    let encoded = IMAPName.modifiedUTF7(folder)
    let list = try perform("LIST \"\" \(name)")
    guard list.status == .ok else { throw mailboxError("could not look up \(folder)", list) }
    let entries: [ListEntry]
    do {
      entries = try list.listEntries()
    } catch {
      throw unreadable(error)
    }
    if let entry = entries.first(where: { $0.name == encoded }) {
      guard entry.selectable else {
        throw IMAPError(
          .mailbox,
          "the folder \(folder) on \(hostName) cannot hold messages (\\Noselect): "
            + "name another bounces.processedFolder")
      }
      knownFolders.insert(folder)
      return
    }
    let create = try perform("CREATE \(name)")
    // ALREADYEXISTS (RFC 5530): made meanwhile by someone else, which is just as good.
    guard create.status == .ok || create.code == "ALREADYEXISTS" else {
      var hint = ""
      if let root = try? perform("LIST \"\" \"\""), let d = try? root.listEntries().first?.delimiter
      {
        hint = "; this server separates folders with \"\(d)\""
      }
      throw IMAPError(
        .mailbox,
        "could not create the folder \(folder) on \(hostName)\(hint): check "
          + "bounces.processedFolder",
        cause: Cause(serverReply: create.line))
    }
    knownFolders.insert(folder)
  }

  // MARK: - The mailbox

  private var hostName: String { endpoint.map { "\($0.host):\($0.port)" } ?? settings.url }

  private func select() throws(IMAPError) -> MailboxStatus {
    guard let ep = endpoint else { throw IMAPError(.settings, "the mailbox was never opened") }
    guard let name = IMAPName.quoted(ep.mailbox) else {
      throw IMAPError(.settings, "the mailbox name in bounces.imap.url is empty or invalid")
    }
    let reply = try perform("SELECT \(name)")
    guard reply.status == .ok else {
      throw IMAPError(
        .mailbox,
        "the IMAP server \(hostName) has no mailbox \(ep.mailbox) for \(settings.username), "
          + "or refused to open it: check the mailbox in bounces.imap.url",
        cause: Cause(serverReply: reply.line))
    }
    let s: MailboxStatus
    do {
      s = try MailboxStatus(selectReply: reply)
    } catch {
      throw unreadable(error)
    }
    status = s
    mailboxSelected = true
    return s
  }

  /// A command that needs the selected mailbox. A new connection (libcurl reconnects when the
  /// server closed the idle one, and closes it itself after a refused command) has no mailbox
  /// selected: select it first, and when the reconnect happened for this very command (which
  /// the server then refused unseen), select and repeat it. Either way the mailbox must not have
  /// been renumbered meanwhile, or the UID in the command may name another message.
  private func mailboxCommand(_ command: String) throws(IMAPError) -> IMAPReply {
    if !mailboxSelected { try reselect() }
    let reply = try perform(command)
    guard reconnected else { return reply }
    try reselect()
    return try perform(command)
  }

  private func reselect() throws(IMAPError) {
    let before = status
    let now = try select()
    if let before, now.uidValidity != before.uidValidity {
      throw IMAPError(
        .mailbox,
        "the mailbox \(endpoint?.mailbox ?? "") on \(hostName) was renumbered (UIDVALIDITY "
          + "\(before.uidValidity) → \(now.uidValidity)) while it was read: run again")
    }
  }

  // MARK: - libcurl

  /// Whether the last perform opened a new connection.
  private var reconnected = false
  /// Whether the mailbox is selected on the current connection.
  private var mailboxSelected = false
  /// Whether the last perform failed because its answer could not be read.
  private var answerUnreadable = false
  private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

  private func closeConnection() {
    if let handle { curl_easy_cleanup(handle) }
    handle = nil
    mailboxSelected = false
  }

  private func configuredHandle() throws(IMAPError) -> UnsafeMutableRawPointer {
    if let handle { return handle }
    guard let ep = endpoint, let h = curl_easy_init() else {
      throw IMAPError(.protocol, "libcurl could not start a session")
    }
    func set(_ o: CURLoption, _ v: Int) { _ = herinner_setopt_long(h, o, v) }
    func set(_ o: CURLoption, _ v: String) { _ = herinner_setopt_string(h, o, v) }
    set(CURLOPT_URL, ep.serverURL)
    set(CURLOPT_NOSIGNAL, 1)
    set(CURLOPT_CONNECTTIMEOUT, settings.timeoutSeconds)
    set(CURLOPT_TIMEOUT, settings.timeoutSeconds)
    // Certificates are always verified (libcurl's default, said explicitly).
    set(CURLOPT_SSL_VERIFYPEER, 1)
    set(CURLOPT_SSL_VERIFYHOST, 2)
    if let ca = settings.caFile { set(CURLOPT_CAINFO, ca) }
    set(CURLOPT_USERNAME, settings.username)
    set(CURLOPT_PASSWORD, settings.password)
    // libcurl cuts a received line longer than half its buffer (docs/KNOWN_BUGS, "IMAP
    // long lines"); the largest buffer keeps every line of a message whole up to 5 MB. A cut
    // line would still be noticed: the literal's size would not match.
    set(CURLOPT_BUFFERSIZE, 10 * 1024 * 1024)  // CURL_MAX_READ_SIZE
    _ = herinner_setopt_callback(h, CURLOPT_HEADERFUNCTION, headerCallback)
    _ = herinner_setopt_callback(h, CURLOPT_WRITEFUNCTION, discardCallback)
    handle = h
    return h
  }

  /// Sends `command` and returns the server's reply to it (OK, NO or BAD). Connection, TLS and
  /// login failures throw.
  private func perform(_ command: String) throws(IMAPError) -> IMAPReply {
    do {
      return try performOnce(command)
    } catch {
      // A server that ended an idle session (`* BYE`) leaves a socket libcurl still reuses; the
      // command then never reached it. Once more on a new connection: every command herinner
      // sends may be repeated (a repeated MOVE or STORE finds nothing left to do).
      guard lostReusedConnection else { throw error }
      return try performOnce(command)
    }
  }

  /// Whether the last perform failed because a reused connection turned out dead.
  private var lostReusedConnection = false

  private func performOnce(_ command: String) throws(IMAPError) -> IMAPReply {
    answerUnreadable = false
    lostReusedConnection = false
    let h = try configuredHandle()
    _ = herinner_setopt_string(h, CURLOPT_CUSTOMREQUEST, command)
    let received = Received()
    let user = Unmanaged.passRetained(received)
    defer { user.release() }
    _ = herinner_setopt_pointer(h, CURLOPT_HEADERDATA, user.toOpaque())
    errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let rc = errorBuffer.withUnsafeMutableBufferPointer { buf -> CURLcode in
      _ = herinner_setopt_pointer(h, CURLOPT_ERRORBUFFER, buf.baseAddress)
      let rc = curl_easy_perform(h)
      _ = herinner_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil)
      return rc
    }
    _ = herinner_setopt_pointer(h, CURLOPT_HEADERDATA, nil)
    var connects = 0
    _ = herinner_getinfo_long(h, CURLINFO_NUM_CONNECTS, &connects)
    reconnected = connects > 0
    // libcurl closes the connection after a refused command (CURLE_QUOTE_ERROR) too.
    if reconnected || rc == CURLE_QUOTE_ERROR { mailboxSelected = false }
    let detail = String(
      decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // CURLE_QUOTE_ERROR: the server answered the custom command with NO or BAD; the reply says
    // which, and the caller decides what that means.
    guard rc == CURLE_OK || rc == CURLE_QUOTE_ERROR else {
      closeConnection()
      lostReusedConnection =
        connects == 0
        && (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING)
      throw classify(rc, detail: detail, lastLine: Self.lastLine(received.bytes))
    }
    do {
      if rc == CURLE_QUOTE_ERROR { return try IMAPReply.lastRefused(in: received.bytes) }
      return try IMAPReply.last(in: received.bytes)
    } catch {
      // What follows an unreadable answer cannot be trusted either: start a new session.
      closeConnection()
      answerUnreadable = true
      throw unreadable(error, command: command)
    }
  }

  /// libcurl's own `UID FETCH n BODY[]` on a new connection, with the UIDVALIDITY in the URL
  /// (libcurl refuses with CURLE_REMOTE_FILE_NOT_FOUND when the mailbox was renumbered).
  private func fetchThroughLibcurl(uid: UInt32) throws(IMAPError) -> [UInt8]? {
    guard let ep = endpoint, let validity = status?.uidValidity else { return nil }
    closeConnection()
    let h = try configuredHandle()
    // The name goes %-escaped into the URL path; libcurl decodes and quotes it.
    let name = IMAPName.modifiedUTF7(ep.mailbox).utf8.map { b -> String in
      let unreserved =
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
      return unreserved
        ? String(UnicodeScalar(b))
        : "%"
          + String(b, radix: 16, uppercase: true)
          .leftPadded(to: 2)
    }.joined()
    let body = Received()
    let user = Unmanaged.passRetained(body)
    defer { user.release() }
    _ = herinner_setopt_string(
      h, CURLOPT_URL, ep.serverURL + name + ";UIDVALIDITY=\(validity)/;UID=\(uid)")
    _ = herinner_setopt_string(h, CURLOPT_CUSTOMREQUEST, nil)
    _ = herinner_setopt_callback(h, CURLOPT_WRITEFUNCTION, headerCallback)
    _ = herinner_setopt_pointer(h, CURLOPT_WRITEDATA, user.toOpaque())
    let rc = curl_easy_perform(h)
    // Back to custom commands on the server's URL; this connection's selection is libcurl's.
    closeConnection()
    switch rc {
    case CURLE_OK:
      return body.bytes
    case CURLE_REMOTE_FILE_NOT_FOUND:
      throw IMAPError(
        .mailbox,
        "the mailbox \(ep.mailbox) on \(hostName) was renumbered while it was read: run again",
        cause: Cause(curlCode: curlCodeName(rc)))
    default:
      throw classify(rc, detail: curlText(rc), lastLine: nil)
    }
  }

  /// The last complete line the server sent, for an error message.
  static func lastLine(_ bytes: [UInt8]) -> String? {
    let lines = bytes.split(separator: 0x0A).map {
      String(decoding: $0.filter { $0 != 0x0D }, as: UTF8.self)
    }.filter { !$0.isEmpty }
    return lines.last
  }

  private func classify(_ rc: CURLcode, detail: String, lastLine: String?) -> IMAPError {
    let cause = Cause(
      curlCode: curlCodeName(rc), detail: detail.isEmpty ? curlText(rc) : detail,
      serverReply: lastLine)
    let server = hostName
    switch curlCodeKind(rc) {
    case .unreachable:
      return IMAPError(
        .unreachable,
        "cannot reach the IMAP server \(server): check the host and port in bounces.imap.url "
          + "and that the server is up",
        cause: cause)
    case .tls:
      if rc == CURLE_SSL_CACERT_BADFILE {
        return IMAPError(
          .tls,
          "cannot use the CA file \(settings.caFile ?? "(the system's)") for \(server): check "
            + "bounces.imap.caFile",
          cause: cause)
      }
      if rc == CURLE_PEER_FAILED_VERIFICATION {
        return IMAPError(
          .tls,
          "the certificate of the IMAP server \(server) is not trusted (certificates are always "
            + "verified): check the host name in bounces.imap.url and bounces.imap.caFile",
          cause: cause)
      }
      return IMAPError(
        .tls,
        "TLS with the IMAP server \(server) failed: check that it speaks imaps (TLS from the "
          + "start) on that port, and bounces.imap.caFile",
        cause: cause)
    case .login:
      return IMAPError(
        .login,
        "the IMAP server \(server) refused the login for \(settings.username): check "
          + "bounces.imap.username and the password",
        cause: cause)
    case .protocol:
      return IMAPError(
        .protocol, "the IMAP session with \(server) failed", cause: cause)
    }
  }

  private func unreadable(_ e: IMAPParseError, command: String? = nil) -> IMAPError {
    let what = command.map { " to \(Self.commandName($0))" } ?? ""
    return IMAPError(
      .protocol, "the IMAP server \(hostName) sent an answer\(what) herinner cannot read",
      cause: Cause(detail: e.description))
  }

  private func protocolError(_ what: String, reply: IMAPReply) -> IMAPError {
    IMAPError(
      .protocol, "the IMAP server \(hostName) \(what)", cause: Cause(serverReply: reply.line))
  }

  private func mailboxError(_ what: String, _ reply: IMAPReply) -> IMAPError {
    IMAPError(
      .mailbox, "\(what) on the IMAP server \(hostName)", cause: Cause(serverReply: reply.line))
  }

  /// A command's first words without its arguments (never a credential: herinner sends LOGIN
  /// through libcurl, not as a custom command).
  static func commandName(_ command: String) -> String {
    let words = command.split(separator: " ")
    if words.first == "UID", words.count > 1 { return "UID \(words[1])" }
    return words.first.map(String.init) ?? command
  }
}

private typealias Cause = IMAPError.Cause

/// What `newMessages(after:)` found.
public struct NewMessages: Sendable, Equatable {
  /// Ascending.
  public var uids: [UInt32]
  public var uidValidity: UInt32
  /// The stored cursor belonged to an earlier numbering of the mailbox: every message is
  /// listed again.
  public var restarted: Bool

  public init(uids: [UInt32], uidValidity: UInt32, restarted: Bool) {
    self.uids = uids
    self.uidValidity = uidValidity
    self.restarted = restarted
  }

  /// The cursor to store once message `uid` is handled.
  public func cursor(after uid: UInt32) -> IMAPCursor {
    IMAPCursor(uidValidity: uidValidity, lastUID: uid)
  }
}

extension IMAPReply {
  /// The completion as the server wrote it, without the tag: `NO [TRYCREATE] No such mailbox`.
  public var line: String {
    status.rawValue + (code.map { " [\($0)]" } ?? "") + (text.isEmpty ? "" : " \(text)")
  }
}

enum CurlCodeKind { case unreachable, tls, login, `protocol` }

func curlCodeKind(_ rc: CURLcode) -> CurlCodeKind {
  switch rc {
  case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
    CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR:
    return .unreachable
  case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
    CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_PEER_FAILED_VERIFICATION, CURLE_USE_SSL_FAILED,
    CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_SHUTDOWN_FAILED,
    CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
    CURLE_SSL_INVALIDCERTSTATUS:
    return .tls
  case CURLE_LOGIN_DENIED, CURLE_AUTH_ERROR, CURLE_REMOTE_ACCESS_DENIED:
    return .login
  default:
    return .protocol
  }
}

/// libcurl's result by its name in curl.h, for messages and logs.
public func curlCodeName(_ rc: CURLcode) -> String {
  let names: [(CURLcode, String)] = [
    (CURLE_OK, "CURLE_OK"),
    (CURLE_UNSUPPORTED_PROTOCOL, "CURLE_UNSUPPORTED_PROTOCOL"),
    (CURLE_FAILED_INIT, "CURLE_FAILED_INIT"),
    (CURLE_URL_MALFORMAT, "CURLE_URL_MALFORMAT"),
    (CURLE_COULDNT_RESOLVE_PROXY, "CURLE_COULDNT_RESOLVE_PROXY"),
    (CURLE_COULDNT_RESOLVE_HOST, "CURLE_COULDNT_RESOLVE_HOST"),
    (CURLE_COULDNT_CONNECT, "CURLE_COULDNT_CONNECT"),
    (CURLE_WEIRD_SERVER_REPLY, "CURLE_WEIRD_SERVER_REPLY"),
    (CURLE_REMOTE_ACCESS_DENIED, "CURLE_REMOTE_ACCESS_DENIED"),
    (CURLE_QUOTE_ERROR, "CURLE_QUOTE_ERROR"),
    (CURLE_WRITE_ERROR, "CURLE_WRITE_ERROR"),
    (CURLE_OUT_OF_MEMORY, "CURLE_OUT_OF_MEMORY"),
    (CURLE_OPERATION_TIMEDOUT, "CURLE_OPERATION_TIMEDOUT"),
    (CURLE_SSL_CONNECT_ERROR, "CURLE_SSL_CONNECT_ERROR"),
    (CURLE_FUNCTION_NOT_FOUND, "CURLE_FUNCTION_NOT_FOUND"),
    (CURLE_ABORTED_BY_CALLBACK, "CURLE_ABORTED_BY_CALLBACK"),
    (CURLE_BAD_FUNCTION_ARGUMENT, "CURLE_BAD_FUNCTION_ARGUMENT"),
    (CURLE_GOT_NOTHING, "CURLE_GOT_NOTHING"),
    (CURLE_SSL_ENGINE_NOTFOUND, "CURLE_SSL_ENGINE_NOTFOUND"),
    (CURLE_SSL_ENGINE_SETFAILED, "CURLE_SSL_ENGINE_SETFAILED"),
    (CURLE_SEND_ERROR, "CURLE_SEND_ERROR"),
    (CURLE_RECV_ERROR, "CURLE_RECV_ERROR"),
    (CURLE_SSL_CERTPROBLEM, "CURLE_SSL_CERTPROBLEM"),
    (CURLE_SSL_CIPHER, "CURLE_SSL_CIPHER"),
    (CURLE_PEER_FAILED_VERIFICATION, "CURLE_PEER_FAILED_VERIFICATION"),
    (CURLE_USE_SSL_FAILED, "CURLE_USE_SSL_FAILED"),
    (CURLE_SSL_ENGINE_INITFAILED, "CURLE_SSL_ENGINE_INITFAILED"),
    (CURLE_LOGIN_DENIED, "CURLE_LOGIN_DENIED"),
    (CURLE_SSL_CACERT_BADFILE, "CURLE_SSL_CACERT_BADFILE"),
    (CURLE_REMOTE_FILE_NOT_FOUND, "CURLE_REMOTE_FILE_NOT_FOUND"),
    (CURLE_SSL_SHUTDOWN_FAILED, "CURLE_SSL_SHUTDOWN_FAILED"),
    (CURLE_AGAIN, "CURLE_AGAIN"),
    (CURLE_SSL_CRL_BADFILE, "CURLE_SSL_CRL_BADFILE"),
    (CURLE_SSL_ISSUER_ERROR, "CURLE_SSL_ISSUER_ERROR"),
    (CURLE_SSL_PINNEDPUBKEYNOTMATCH, "CURLE_SSL_PINNEDPUBKEYNOTMATCH"),
    (CURLE_SSL_INVALIDCERTSTATUS, "CURLE_SSL_INVALIDCERTSTATUS"),
    (CURLE_AUTH_ERROR, "CURLE_AUTH_ERROR"),
  ]
  return names.first { $0.0 == rc }?.1 ?? "CURLcode \(rc.rawValue)"
}

private func curlText(_ rc: CURLcode) -> String {
  guard let s = curl_easy_strerror(rc) else { return "" }
  return String(cString: s)
}
