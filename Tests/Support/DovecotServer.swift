import Foundation

public struct DovecotStartError: Error, CustomStringConvertible {
  public var description: String
}

/// (The same server as Tests/CurlIMAPTests/TestDovecot.swift, public for the CLI tests.)
/// A real Dovecot (`dovecot -F -c <its own config>`) on 127.0.0.1 and a free port, imaps only,
/// with a certificate from a private CA made here by openssl, passwd-file users and a Maildir per
/// user. Stopped when this value goes away. Failing to start throws: a test never skips.
public final class DovecotServer: @unchecked Sendable {
  public let folder: String
  public let port: Int
  /// The CA that signed the server's certificate.
  public let caFile: String
  /// A CA that did not (for the untrusted-certificate test).
  public let otherCAFile: String
  private let process: Process
  /// The uid and gid that own the Maildirs (nobody when the tests run as root, as here and in
  /// CI: Dovecot refuses to give mail access as root).
  private let mailUID: uid_t
  private let mailGID: gid_t

  /// - Parameters:
  ///   - users: name → password (stored `{PLAIN}` in the passwd-file).
  ///   - separator: the hierarchy delimiter of the inbox namespace.
  ///   - capabilities: replaces what Dovecot announces after login (`imap_capability`), to make
  ///     it look like a server without MOVE or UIDPLUS; nil keeps Dovecot's own.
  public init(
    users: [String: String] = ["bounces": "geheim"], separator: String = "/",
    capabilities: String? = nil
  ) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot") else {
      throw DovecotStartError(
        description: "/usr/sbin/dovecot is missing: run scripts/setup-imap (dovecot-imapd)")
    }
    // Short: Dovecot's UNIX sockets live below it, and their paths are limited to 108 bytes.
    folder = "/tmp/hd-" + String(UUID().uuidString.prefix(8))
    let fm = FileManager.default
    try fm.createDirectory(atPath: folder + "/run", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: folder + "/state", withIntermediateDirectories: true)
    caFile = folder + "/ca.pem"
    otherCAFile = folder + "/other-ca.pem"
    try Self.makeCertificates(in: folder)

    let root = getuid() == 0
    let me = String(cString: getpwuid(getuid()).pointee.pw_name)
    mailUID = root ? 65534 : getuid()
    mailGID = root ? 65534 : getgid()
    var passwd = ""
    for (user, password) in users.sorted(by: { $0.key < $1.key }) {
      passwd += "\(user):{PLAIN}\(password):::::\n"
      let maildir = folder + "/home/\(user)/Maildir"
      for sub in ["new", "cur", "tmp"] {
        try fm.createDirectory(atPath: maildir + "/" + sub, withIntermediateDirectories: true)
      }
    }
    try passwd.write(toFile: folder + "/passwd", atomically: true, encoding: .utf8)
    try Self.chownTree(folder + "/home", uid: mailUID, gid: mailGID)

    var lastError = ""
    for _ in 0..<5 {
      let port = try Self.freePort()
      let config = """
        base_dir = \(folder)/run
        state_dir = \(folder)/state
        log_path = \(folder)/dovecot.log
        protocols = imap
        listen = 127.0.0.1
        ssl = required
        ssl_cert = <\(folder)/server.pem
        ssl_key = <\(folder)/server.key
        default_internal_user = \(root ? "dovecot" : me)
        default_login_user = \(root ? "dovenull" : me)
        auth_mechanisms = plain
        passdb {
          driver = passwd-file
          args = scheme=PLAIN username_format=%u \(folder)/passwd
        }
        userdb {
          driver = static
          args = uid=\(mailUID) gid=\(mailGID) home=\(folder)/home/%u
        }
        mail_location = maildir:~/Maildir
        namespace inbox {
          inbox = yes
          separator = \(separator)
        }
        service imap-login {
          inet_listener imap {
            port = 0
          }
          inet_listener imaps {
            port = \(port)
            ssl = yes
          }
        }
        \(capabilities.map { "imap_capability = \($0)" } ?? "")

        """
      try config.write(toFile: folder + "/dovecot.conf", atomically: true, encoding: .utf8)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/sbin/dovecot")
      p.arguments = ["-F", "-c", folder + "/dovecot.conf"]
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.standardError
      p.standardInput = FileHandle.nullDevice
      // Swift Testing's threads block SIGTERM, and a child inherits the mask: unblock it for
      // the spawn, so that Dovecot can be stopped cleanly.
      var term = sigset_t()
      var previous = sigset_t()
      sigemptyset(&term)
      sigaddset(&term, SIGTERM)
      pthread_sigmask(SIG_UNBLOCK, &term, &previous)
      defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
      try p.run()
      if waitForPort(port, process: p, timeout: 20) {
        self.port = port
        self.process = p
        return
      }
      Self.stop(p)
      lastError = (try? String(contentsOfFile: folder + "/dovecot.log", encoding: .utf8)) ?? ""
    }
    throw DovecotStartError(
      description: "Dovecot did not start (\(folder)/dovecot.conf); its log:\n\(lastError)")
  }

  deinit {
    Self.stop(process)
    try? FileManager.default.removeItem(atPath: folder)
  }

  public var url: String { "imaps://127.0.0.1:\(port)/INBOX" }

  public func maildir(_ user: String, folder name: String? = nil) -> String {
    // Maildir++ keeps a folder in ".name" with the hierarchy written with dots.
    let base = folder + "/home/\(user)/Maildir"
    guard let name else { return base }
    return base + "/." + name.replacingOccurrences(of: "/", with: ".")
  }

  /// Puts a message into the user's Maildir as a delivery agent does (tmp/, then new/).
  public func deliver(_ bytes: [UInt8], to user: String, name: String) throws {
    let dir = maildir(user)
    let tmp = dir + "/tmp/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: tmp))
    chown(tmp, mailUID, mailGID)
    guard rename(tmp, dir + "/new/" + name) == 0 else {
      throw DovecotStartError(description: "cannot deliver \(name) into \(dir)")
    }
  }

  /// The files of a Maildir folder (new/ and cur/), by name (with the flags suffix, `:2,S`).
  public func files(_ user: String, folder name: String? = nil) -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    let dir = maildir(user, folder: name)
    for sub in ["new", "cur"] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? []
      for n in names {
        out[n] = FileManager.default.contents(atPath: "\(dir)/\(sub)/\(n)").map { [UInt8]($0) }
      }
    }
    return out
  }

  /// Ends the user's IMAP sessions (`doveadm kick`), as a server does with an idle one.
  public func kick(_ user: String) throws {
    try Self.run(["/usr/bin/doveadm", "-c", folder + "/dovecot.conf", "kick", user], in: folder)
  }

  // MARK: - Helpers

  private static func run(_ args: [String], in dir: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    p.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    p.standardError = err
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      throw DovecotStartError(description: "\(args.joined(separator: " ")) failed: \(text)")
    }
  }

  /// A CA, a server certificate for 127.0.0.1 signed by it, and a second CA that signed nothing.
  private static func makeCertificates(in dir: String) throws {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for name in ["ca", "other-ca"] {
      try run(
        ["openssl", "req", "-x509"] + ec + [
          "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj",
          "/CN=herinner test \(name)",
        ], in: dir)
    }
    try run(
      ["openssl", "req"] + ec + [
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
      ], in: dir)
    try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
      toFile: dir + "/ext.cnf", atomically: true, encoding: .utf8)
    try run(
      [
        "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
      ], in: dir)
  }

  private static func chownTree(_ path: String, uid: uid_t, gid: gid_t) throws {
    chown(path, uid, gid)
    guard let e = FileManager.default.enumerator(atPath: path) else { return }
    while let sub = e.nextObject() as? String {
      guard chown(path + "/" + sub, uid, gid) == 0 || getuid() != 0 else {
        throw DovecotStartError(description: "cannot chown \(path)/\(sub)")
      }
    }
  }

  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
      }
    }
    guard ok else { throw DovecotStartError(description: "no free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  /// SIGTERM (Dovecot's own clean shutdown, which ends its children too), SIGKILL after 10 s.
  private static func stop(_ p: Process) {
    guard p.isRunning else { return }
    kill(p.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
    }
  }
}
