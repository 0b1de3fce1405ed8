import Foundation

/// A real Postfix submission server (Tests/tools/postfix-test-server): STARTTLS and implicit TLS,
/// Cyrus SASL, a private CA, delivery into a Maildir, on free loopback ports, one port per
/// fault Postfix can be configured to make. One instance serves the whole test process; it is
/// stopped by a watchdog when the process ends. It needs root (Postfix's master does): failing
/// to start throws, so a test that needs it fails loudly and never skips.
public final class PostfixServer: Sendable {
  public static let username = "administratie@studiovermeer.nl"
  public static let password = "Geheim-2026!"
  /// The only envelope sender the login may use (reject_sender_login_mismatch).
  public static let sender = "administratie@studiovermeer.nl"
  /// Refused at RCPT with 550 5.1.1 (check_recipient_access).
  public static let refusedRecipient = "onbekend@example.nl"
  /// Accepted at RCPT, then not deliverable (transport `error:5.1.1`): Postfix returns a DSN
  /// to the envelope sender, which lands in `maildir` like any other message.
  public static let bouncingRecipient = "verhuisd@example.nl"
  /// message_size_limit on `smallPort`.
  public static let sizeLimit = 20_000

  public let folder: String
  public let caFile: String
  /// new/ and cur/ below it hold the delivered messages.
  public let maildir: String
  /// STARTTLS required, login required.
  public let starttlsPort: Int
  /// Implicit TLS.
  public let tlsPort: Int
  /// As `starttlsPort`, PIPELINING not offered.
  public let noPipeliningPort: Int
  /// As `starttlsPort`, the session ends at the first error (smtpd_hard_error_limit = 1).
  public let hardErrorLimitPort: Int
  /// As `starttlsPort`, message_size_limit = `sizeLimit`.
  public let smallPort: Int
  /// As `starttlsPort`, one session per client: a second connection gets 421.
  public let oneSessionPort: Int
  /// As `starttlsPort`, an idle session is closed after 2 s (smtpd_timeout: 421, then the end).
  public let idlePort: Int

  private static let instance: Result<PostfixServer, ServerStartError> = {
    do { return .success(try PostfixServer()) } catch let e as ServerStartError {
      return .failure(e)
    } catch {
      return .failure(ServerStartError(description: "Postfix did not start: \(error)"))
    }
  }()

  /// The server of this test process, started on first use.
  public static func shared() throws -> PostfixServer { try instance.get() }

  /// A private instance for one test that needs other queue settings than the shared one:
  /// `mainCF` lines ("name = value") are appended to main.cf, `transport` lines
  /// ("address transport:nexthop") to the transport map. Stop it with `stop()`.
  public static func own(mainCF: [String], transport: [String] = []) throws -> PostfixServer {
    try PostfixServer(mainCF: mainCF, transport: transport)
  }

  private init(mainCF: [String] = [], transport: [String] = []) throws {
    guard getuid() == 0 else {
      throw ServerStartError(
        description:
          "the Postfix test server needs root (Postfix's master runs as root); run the tests as "
          + "root, as CI does")
    }
    folder = NSTemporaryDirectory() + "herinner-postfix-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try "\(Self.refusedRecipient) 550 5.1.1 User unknown\n"
      .write(toFile: folder + "/recipient_access", atomically: true, encoding: .utf8)
    let routes = ["\(Self.bouncingRecipient) error:5.1.1 User unknown (moved away)"] + transport
    try (routes.joined(separator: "\n") + "\n")
      .write(toFile: folder + "/transport", atomically: true, encoding: .utf8)
    var ports: [Int] = []
    while ports.count < 7 {
      let p = try freePort()
      if !ports.contains(p) { ports.append(p) }
    }
    (starttlsPort, tlsPort, noPipeliningPort, hardErrorLimitPort, smallPort, oneSessionPort) =
      (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5])
    idlePort = ports[6]
    caFile = folder + "/pki/ca.crt"
    maildir = folder + "/mail/inbox"

    let script = testRepoRoot + "/Tests/tools/postfix-test-server"
    let out = folder + "/start.out"
    let err = folder + "/start.err"
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [script, "start", folder] + ports.map(String.init)
    p.environment = ProcessInfo.processInfo.environment.merging(
      [
        "PASSWORD": Self.password, "SMALL_LIMIT": "\(Self.sizeLimit)",
        "EXTRA_MAIN_CF": mainCF.joined(separator: "\n"),
      ]) { $1 }
    // Files, not pipes: Postfix's daemons must not hold the test runner's output open.
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle(forWritingAtPath: out)
    p.standardError = FileHandle(forWritingAtPath: err)
    try p.run()
    // Stops Postfix when this test process has gone, however it ends.
    let watchdog = Process()
    watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
    watchdog.arguments = [
      "-c",
      "while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done; "
        + "bash '\(script)' stop '\(folder)'; rm -rf '\(folder)'",
    ]
    watchdog.standardInput = FileHandle.nullDevice
    watchdog.standardOutput = FileHandle.nullDevice
    watchdog.standardError = FileHandle.nullDevice
    try watchdog.run()
    p.waitUntilExit()
    let said = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    guard p.terminationStatus == 0, said.hasPrefix("READY") else {
      let why = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
      throw ServerStartError(
        description:
          "the Postfix test server did not start (exit \(p.terminationStatus)): \(why)"
          + " — scripts/setup installs postfix, sasl2-bin and libsasl2-modules")
    }
  }

  /// Every delivered message, as Postfix stored it (LF line ends, its own headers first).
  public func deliveredMessages() -> [[UInt8]] {
    ["new", "cur"].flatMap { sub -> [[UInt8]] in
      let dir = maildir + "/" + sub
      let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
      return names.sorted().compactMap { FileManager.default.contents(atPath: dir + "/" + $0) }
        .map { [UInt8]($0) }
    }
  }

  /// The delivered message with this Message-ID, waiting up to `timeout` seconds for Postfix's
  /// queue to deliver it.
  public func delivered(messageID: String, timeout: TimeInterval = 20) -> [UInt8]? {
    let needle = Array("\nMessage-ID: <\(messageID)>\n".utf8)
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
      if let m = deliveredMessages().first(where: { contains($0, needle) }) { return m }
      Thread.sleep(forTimeInterval: 0.1)
    } while Date() < deadline
    return nil
  }

  /// Postfix's log (one line per event; "disconnect from … quit=1 …" ends each session).
  public func log() -> String {
    (try? String(contentsOfFile: folder + "/postfix.log", encoding: .utf8)) ?? ""
  }

  /// Stops this instance's Postfix (the watchdog would, once the test process ends).
  public func stop() {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [testRepoRoot + "/Tests/tools/postfix-test-server", "stop", folder]
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    if (try? p.run()) != nil { p.waitUntilExit() }
  }
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
  guard needle.count <= haystack.count, let first = needle.first else { return false }
  var i = 0
  while i + needle.count <= haystack.count {
    if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
      return true
    }
    i += 1
  }
  return false
}

/// The message Postfix stored, without the headers it put in front (Return-Path,
/// X-Original-To, Delivered-To, Received), in CRLF line ends as it was sent.
public func withoutPostfixHeaders(_ stored: [UInt8]) -> [UInt8] {
  let text = String(decoding: stored, as: UTF8.self)
  var lines = text.components(separatedBy: "\n")[...]
  let added = ["Return-Path:", "X-Original-To:", "Delivered-To:", "Received:"]
  while let l = lines.first,
    added.contains(where: { l.hasPrefix($0) }) || l.hasPrefix("\t") || l.hasPrefix(" ")
  {
    lines = lines.dropFirst()
  }
  return Array(lines.joined(separator: "\r\n").utf8)
}
