import ArgumentParser
import CHerinnerSystem
import CurlSMTP
import Foundation
import HerinnerBatch
import HerinnerCore
import HerinnerInput
import HerinnerLedger
import HerinnerLetters

/// The lock that keeps two `send`s off one ledger: an flock on `<ledger>.lock`, released when
/// the process ends (also by a crash).
final class RunLock {
  let fd: Int32

  /// Takes the lock or exits 3 naming the holder.
  init(path: String) throws {
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      Console.error("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
      throw ExitCode(2)
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      var buf = [UInt8](repeating: 0, count: 512)
      let n = pread(fd, &buf, 511, 0)
      let holder =
        n > 0
        ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(
          in: .whitespacesAndNewlines) : "unknown"
      Console.error("another herinner send holds the lock \(path) (\(holder)); not sending")
      close(fd)
      throw ExitCode(3)
    }
    ftruncate(fd, 0)
    let me = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: Date()))\n"
    _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
  }

  deinit { close(fd) }
}

extension Config {
  /// The SMTP password from `passwordEnv` or `passwordFile`. An unset variable is warned about
  /// and the session goes on without a login: a server that requires one then refuses (exit 4),
  /// one that does not (a local relay) just works.
  func smtpPassword() throws -> String? {
    if let env = smtp.passwordEnv {
      guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
        Console.error(
          "\(InvoiceSource.display(file)): smtp.passwordEnv: the environment variable \(env) is not set; connecting without a login"
        )
        return nil
      }
      return v
    }
    if let file = smtp.passwordFile {
      guard let data = FileManager.default.contents(atPath: file) else {
        Console.error("\(InvoiceSource.display(self.file)): smtp.passwordFile: cannot read \(file)")
        throw ExitCode(2)
      }
      return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
    return nil
  }

  func smtpSettings(password: String?) -> SMTPSettings {
    let security: SMTPSettings.Security
    switch smtp.security {
    case .starttls: security = .starttls
    case .tls: security = .tls
    case .none: security = .none
    }
    let host = smtp.host.hasPrefix("[") ? String(smtp.host.dropFirst().dropLast()) : smtp.host
    return SMTPSettings(
      host: host, port: smtp.port, security: security,
      username: password == nil ? nil : smtp.username, password: password,
      caFile: smtp.caFile, timeoutSeconds: smtp.timeoutSeconds, heloName: sender.domain)
  }

  /// Opens `count` connections; the first is verified before anything is marked (exit 4).
  func openTransports(count: Int) throws -> [CurlSMTPTransport] {
    let settings = smtpSettings(password: try smtpPassword())
    let transports = (0..<max(1, count)).map { _ in CurlSMTPTransport(settings: settings) }
    do { try transports[0].verifyConnection() } catch {
      Console.error(
        "SMTP \(smtp.host):\(smtp.port): \(error.message); nothing sent, nothing marked")
      throw ExitCode(4)
    }
    return transports
  }

  /// Flushes the archive's file system once for a whole group of writes (syncfs(2)).
  var archiveFlush: () -> Void {
    let root = archive
    return {
      let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard fd >= 0 else { return }
      _ = herinner_syncfs(fd)
      close(fd)
    }
  }

  /// Archive writes: `archive/<date>/<invoice>-<step>-<token>.eml` (made durable per group).
  /// Safe from several threads: each call writes its own file; a folder made by another thread
  /// at the same moment is fine (EEXIST).
  var archiveWriter: @Sendable (String, [UInt8]) throws -> String {
    let root = archive
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let buffers = AlignedBuffers()
    return { name, bytes in
      let path = (root as NSString).appendingPathComponent(name)
      let folder = (path as NSString).deletingLastPathComponent
      if mkdir(folder, 0o755) != 0 && errno != EEXIST {
        // A root removed since the start, or nested names: the careful way.
        try FileManager.default.createDirectory(
          atPath: folder, withIntermediateDirectories: true)
      }
      try ArchiveFile.write(bytes, to: path, buffers: buffers)
      return path
    }
  }
}

/// Writes one archived message. The archive is written once and not read back during the night,
/// so it bypasses the page cache (O_DIRECT) where the file system allows: copying every
/// 140 KB message into fresh page-cache pages was a quarter of a night's CPU on the benchmark
/// machine (Benchmarks/RESULTS.md). Elsewhere (tmpfs, …) it is an ordinary write. Either way the
/// group's `syncfs` makes it durable (data and size) before the message is recorded.
enum ArchiveFile {
  static let block = 4096

  static func write(_ bytes: [UInt8], to path: String, buffers: AlignedBuffers) throws {
    func fail() -> MessageBuilder.BuildError {
      MessageBuilder.BuildError(
        description: "cannot write the archive \(path): \(String(cString: strerror(errno)))")
    }
    let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
    var fd = open(path, flags | herinner_o_direct(), 0o644)
    if fd >= 0 {
      // Whole blocks straight to the disk; the tail (under one block) through the page cache,
      // so the file needs no padding and no truncation.
      let whole = bytes.count / block * block
      let buffer = buffers.take(max(whole, block))
      defer { buffers.give(buffer) }
      bytes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: whole) }
      var written = 0
      var direct = true
      while written < whole {
        let n = pwrite(fd, buffer.pointer + written, whole - written, off_t(written))
        if n < 0 && errno == EINTR { continue }
        if n < 0 && errno == EINVAL && written == 0 {
          direct = false  // the file system refuses O_DIRECT after all
          break
        }
        guard n > 0 else {
          close(fd)
          throw fail()
        }
        written += n
      }
      if direct {
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~herinner_o_direct())
        while written < bytes.count {
          let n = bytes.withUnsafeBytes {
            pwrite(fd, $0.baseAddress! + written, $0.count - written, off_t(written))
          }
          if n < 0 && errno == EINTR { continue }
          guard n > 0 else { throw fail() }
          written += n
        }
        return
      }
      close(fd)
      fd = -1
    }
    fd = open(path, flags, 0o644)
    guard fd >= 0 else { throw fail() }
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes {
        Foundation.write(fd, $0.baseAddress! + written, $0.count - written)
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw fail() }
      written += n
    }
  }
}

/// Page-aligned buffers for O_DIRECT, reused across messages (fresh pages cost a page fault each).
final class AlignedBuffers: @unchecked Sendable {
  struct Buffer {
    var pointer: UnsafeMutableRawPointer
    var size: Int
  }
  private var free: [Buffer] = []
  private let lock = NSLock()

  func take(_ size: Int) -> Buffer {
    if let b = lock.withLock({ () -> Buffer? in
      guard let i = free.firstIndex(where: { $0.size >= size }) else { return nil }
      return free.remove(at: i)
    }) {
      return b
    }
    let rounded = max(size, 256 * 1024)
    return Buffer(
      pointer: UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: ArchiveFile.block),
      size: rounded)
  }

  func give(_ b: Buffer) {
    lock.withLock {
      if free.count < 16 { free.append(b) } else { b.pointer.deallocate() }
    }
  }
}

extension Send {
  func runLiveBatch(config: Config, templates: TemplateSet, load: InvoiceLoad, today: CalendarDate)
    throws
  {
    let lock = try RunLock(path: config.lockFile)
    defer { _ = lock }
    let ledger = try openLedger(config)
    if let folder = config.payments.importFrom {
      let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        .map { (folder as NSString).appendingPathComponent($0) }
        .filter { f in
          var dir: ObjCBool = false
          guard FileManager.default.fileExists(atPath: f, isDirectory: &dir), !dir.boolValue,
            let data = FileManager.default.contents(atPath: f)
          else { return false }
          return !((try? ledger.statementImported(fileHash: contentHash([UInt8](data)))) ?? false)
        }
      if !files.isEmpty {
        let (lines, failed) = importStatements(
          files, config: config, ledger: ledger, invoices: load.invoices)
        for l in lines { Console.error("payments: \(l)") }
        if failed {
          Console.error("payments.importFrom: a statement could not be imported; not sending")
          throw ExitCode(2)
        }
      }
    }
    try checkStatementAge(
      config: config, latest: (try? ledger.latestStatementDate()) ?? nil, today: today)
    var attention: [String] = []
    do {
      for row in try ledger.markInterruptedAsUnknown() {
        attention.append(
          "invoice \(row.invoice) (\(row.step.rawValue)): an interrupted send is now unknown; check, then `herinner resolve \(row.invoice) --stage \(row.step.rawValue) --sent|--not-sent`"
        )
      }
    } catch {
      Console.error(error.description)
      throw ExitCode(2)
    }
    let plan = try nightPlan(config: config, ledger: ledger, load: load, today: today)

    var tally = RunTally()
    if !plan.messages.isEmpty {
      let transports = try config.openTransports(
        count: min(config.smtp.connections, plan.messages.count))
      let builder = MessageBuilder(
        templates: templates, timeZone: config.timezone, readAttachment: config.attachmentReader)
      let runner = NightRunner(
        builder: builder, ledger: ledger, transports: transports,
        envelopeFrom: config.smtp.envelopeFrom ?? config.company.email, bcc: config.smtp.bcc,
        maxPerMinute: config.smtp.maxPerMinute, archive: config.archiveWriter,
        unarchive: { try? FileManager.default.removeItem(atPath: $0) },
        clock: { config.messageDate(for: today) })
      runner.flushArchive = config.archiveFlush
      if isatty(STDERR_FILENO) == 1 {
        runner.progress = { done, total in
          let width = 30
          let filled = total == 0 ? width : width * done / total
          FileHandle.standardError.write(
            Data(
              "\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)"
                .utf8))
          if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        }
      }
      do { tally = try runner.run(plan.messages) } catch let e as TransportError {
        Console.error(
          "SMTP \(config.smtp.host):\(config.smtp.port): \(e.message); nothing sent, nothing marked"
        )
        throw ExitCode(4)
      } catch {
        Console.error("send stopped: \(error)")
        throw ExitCode(1)
      }
    }
    for p in tally.problems { attention.append(p) }
    if let why = tally.stoppedEarly {
      attention.append("the SMTP server failed mid-batch (\(why)); the rest goes next run")
    }
    let pendingUnknown = (try? ledger.deliveries(state: .unknown)) ?? []
    for u in pendingUnknown
    where !attention.contains(where: { $0.contains("invoice \(u.invoice) (\(u.step.rawValue))") }) {
      attention.append(
        "invoice \(u.invoice) (\(u.step.rawValue)): delivery unknown since \(u.runDate.iso); `herinner resolve \(u.invoice) --stage \(u.step.rawValue) --sent|--not-sent`"
      )
    }
    let summary = Self.summary(
      plan: plan, invalid: load.problems.count, failed: tally.notRendered, dryRun: false,
      outcomes: [
        "sent": tally.sent, "deferred": tally.deferred, "rejected": tally.rejected,
        "unknown": tally.unknown + pendingUnknown.count - tally.unknown,
      ])
    if json {
      struct Summary: Encodable {
        var date: String
        var closed: String?
        var sent, deferred, rejected, unknown, notRendered, invalidRows, callList,
          readyForCollection: Int
        var skipped: [String: Int]
        var attention: [String]
      }
      let s = Summary(
        date: today.iso, closed: plan.closed, sent: tally.sent, deferred: tally.deferred,
        rejected: tally.rejected,
        unknown: pendingUnknown.count, notRendered: tally.notRendered,
        invalidRows: load.problems.count,
        callList: plan.calls.count, readyForCollection: plan.collection.count,
        skipped: plan.waiting, attention: attention)
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      Console.out(String(decoding: try enc.encode(s), as: UTF8.self))
    } else {
      Console.out(summary)
    }
    for a in attention { Console.error("attention: \(a)") }
    if !attention.isEmpty || !load.problems.isEmpty || tally.needsAttention
      || !plan.attention.isEmpty
    {
      throw ExitCode(1)
    }
  }
}
