import Foundation
import HerinnerCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The journal as a file next to the ledger (`<ledger>.journal`), appended with plain write(2)
/// and never flushed: a killed process leaves its records in the page cache, where the next
/// run on the same boot reads them; a power loss may lose them, and the boot id tells.
public struct JournalFile: JournalStore {
  public var path: String
  public init(path: String) { self.path = path }

  public func previous() throws -> [UInt8]? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw JournalError(path: path, what: "cannot read it")
    }
    return [UInt8](data)
  }

  public func discard() throws {
    if unlink(path) != 0 && errno != ENOENT {
      throw JournalError(path: path, what: "cannot remove it (\(String(cString: strerror(errno))))")
    }
  }

  public func begin(bootID: String) throws -> any DeliveryJournal {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw JournalError(path: path, what: "cannot create it (\(String(cString: strerror(errno))))")
    }
    let journal = FileJournal(fd: fd, path: path)
    try journal.write(JournalFormat.header(bootID: bootID))
    return journal
  }
}

/// The journal could not be read or written.
public struct JournalError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var what: String
  public var description: String { "delivery journal \(path): \(what)" }
}

/// Appends records; safe from several threads. After a failed write every later write fails,
/// so no record follows a torn one and no message is sent without its `started` record.
final class FileJournal: DeliveryJournal {
  private let fd: Int32
  private let path: String
  private let broken = Mutex(false)

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  deinit { close(fd) }

  func write(_ bytes: [UInt8]) throws {
    try broken.withLock { broken in
      guard !broken else { throw JournalError(path: path, what: "an earlier write failed") }
      var done = 0
      while done < bytes.count {
        let n = bytes.withUnsafeBytes { buf in
          Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
        }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          broken = true
          throw JournalError(
            path: path, what: "cannot write (\(String(cString: strerror(errno))))")
        }
        done += n
      }
    }
  }

  func archiving(_ messageKey: String, name: String) throws {
    try write(JournalFormat.archiving(messageKey, name))
  }
  func archived(_ messageKey: String, path: String) throws {
    try write(JournalFormat.archived(messageKey, path))
  }
  func recording(_ messageKeys: [String]) throws {
    try write(messageKeys.flatMap(JournalFormat.recording))
  }
  func started(_ messageKey: String) throws { try write(JournalFormat.started(messageKey)) }
  func handedOver(_ messageKey: String) throws {
    try write(JournalFormat.handedOver(messageKey))
  }
  func answered(_ messageKey: String, state: DeliveryState, code: Int?, reply: String) throws {
    try write(
      JournalFormat.answered(messageKey, JournalAnswer(state: state, code: code, reply: reply)))
  }
}

/// The running kernel's boot id (Linux: changes at every boot); nil where there is none, and
/// then a journal is never trusted.
public enum BootID {
  public static func current(path: String = "/proc/sys/kernel/random/boot_id") -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return id.isEmpty ? nil : id
  }
}
