import Foundation

/// The repository root.
public let testRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .deletingLastPathComponent().path

public struct ServerStartError: Error, CustomStringConvertible {
  public var description: String
}

/// A real SMTP server (Tests/tools/smtp_server.py: aiosmtpd, or a raw server for drop modes) on
/// 127.0.0.1 and a free port, stopped when this value goes away. Failing to start throws: a test
/// that needs a server never skips silently.
public final class TestSMTPServer: @unchecked Sendable {
  public let port: Int
  public let caFile: String?
  public let folder: String
  let process: Process

  public init(_ options: [String] = []) throws {
    folder = NSTemporaryDirectory() + "herinner-smtp-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments =
      ["python3", testRepoRoot + "/Tests/tools/smtp_server.py", "--dir", folder] + options
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.standardError
    p.standardInput = Pipe()
    try p.run()
    process = p
    let line = Self.readLine(out.fileHandleForReading, timeout: 30)
    let parts = line?.split(separator: " ") ?? []
    guard parts.count == 3, parts[0] == "READY", let port = Int(parts[1]) else {
      p.terminate()
      throw ServerStartError(
        description:
          "the test SMTP server did not start (\(options)); is aiosmtpd installed? got: \(line ?? "nothing")"
      )
    }
    self.port = port
    self.caFile = parts[2] == "-" ? nil : String(parts[2])
  }

  static func readLine(_ h: FileHandle, timeout: TimeInterval) -> String? {
    var data = Data()
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let chunk = h.availableData
      if chunk.isEmpty { return nil }
      data += chunk
      if let nl = data.firstIndex(of: 0x0A) { return String(decoding: data[..<nl], as: UTF8.self) }
    }
    return nil
  }

  deinit {
    stop(process)
    try? FileManager.default.removeItem(atPath: folder)
  }

  /// The messages the server accepted, in order: raw bytes and envelope.
  public func received() -> [(data: [UInt8], from: String, to: [String])] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
      $0.hasSuffix(".eml")
    }.sorted()
    return names.map { name in
      let base = folder + "/" + String(name.dropLast(4))
      let data = FileManager.default.contents(atPath: base + ".eml") ?? Data()
      let env =
        (try? JSONSerialization.jsonObject(
          with: FileManager.default.contents(atPath: base + ".json") ?? Data())) as? [String: Any]
        ?? [:]
      return ([UInt8](data), env["from"] as? String ?? "", env["to"] as? [String] ?? [])
    }
  }
}

/// Postfix's smtp-sink on 127.0.0.1 (accepts everything; for volume).
public final class SMTPSink: @unchecked Sendable {
  public let port: Int
  let process: Process

  /// `options`: smtp-sink's own (e.g. `-d template` to dump each message, `-t 1` to close idle
  /// sessions after a second).
  public init(_ options: [String] = []) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink") else {
      throw ServerStartError(
        description: "/usr/sbin/smtp-sink missing: install postfix (scripts/setup does)")
    }
    port = try freePort()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
    p.arguments = ["-u", "nobody"] + options + ["127.0.0.1:\(port)", "256"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.standardError
    try p.run()
    process = p
    guard waitForPort(port, timeout: 10) else {
      p.terminate()
      throw ServerStartError(description: "smtp-sink did not listen on 127.0.0.1:\(port)")
    }
  }

  deinit { stop(process) }
}

/// A TCP port nobody listens on right now.
public func freePort() throws -> Int {
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
  guard ok else { throw ServerStartError(description: "no free port") }
  return Int(UInt16(bigEndian: addr.sin_port))
}

/// Whether something listens on the port before the timeout; false at once when `process`
/// (the server that should listen) has ended.
public func waitForPort(_ port: Int, process: Process? = nil, timeout: TimeInterval) -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline && process?.isRunning != false {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    close(fd)
    if rc == 0 { return true }
    usleep(50_000)
  }
  return false
}

/// Ends a test server at once. SIGKILL, because a child spawned from a Dispatch worker thread
/// inherits its blocked SIGTERM; every message the server accepted is already on disk.
func stop(_ p: Process) {
  guard p.isRunning else { return }
  kill(p.processIdentifier, SIGKILL)
  p.waitUntilExit()
}
