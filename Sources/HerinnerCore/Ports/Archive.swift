import Synchronization

/// Where the exact bytes of every message handed to a server are kept: the proof that a
/// 14-day letter went out.
///
/// Semantics: `write` stores the bytes under `name` (`<date>/<invoice>-<step>-<token>.eml`) and
/// returns the path to record; they are durable once `flush` returns (one flush per group of
/// writes); `remove` takes back the file of a message that was never handed to a server.
public struct Archive: Sendable {
  public var write: @Sendable (_ name: String, _ bytes: [UInt8]) throws -> String
  public var remove: @Sendable (_ path: String) -> Void
  public var flush: @Sendable () throws -> Void

  public init(
    write: @escaping @Sendable (String, [UInt8]) throws -> String,
    remove: @escaping @Sendable (String) -> Void,
    flush: @escaping @Sendable () throws -> Void
  ) {
    self.write = write
    self.remove = remove
    self.flush = flush
  }

  /// An archive in memory, and what it holds (path → bytes), for tests.
  public static func memory() -> (Archive, ArchivedFiles) {
    let files = ArchivedFiles()
    let archive = Archive(
      write: { name, bytes in
        files.files.withLock { $0["memory/" + name] = bytes }
        return "memory/" + name
      },
      remove: { path in _ = files.files.withLock { $0.removeValue(forKey: path) } },
      flush: {})
    return (archive, files)
  }
}

/// The contents of an in-memory archive.
public final class ArchivedFiles: Sendable {
  let files = Mutex<[String: [UInt8]]>([:])
  public var all: [String: [UInt8]] { files.withLock { $0 } }
}

/// The invoice PDFs, read only from inside the attachments folder.
///
/// Semantics: `read` returns the file's bytes or throws `AttachmentError` (missing, unreadable,
/// or a path that leaves the folder); `size` is nil where `read` would throw.
public struct Attachments: Sendable {
  public var read: @Sendable (_ relativePath: String) throws -> [UInt8]
  public var size: @Sendable (_ relativePath: String) -> Int?

  public init(
    read: @escaping @Sendable (String) throws -> [UInt8],
    size: @escaping @Sendable (String) -> Int?
  ) {
    self.read = read
    self.size = size
  }

  /// Attachments held in memory, for tests.
  public static func memory(_ files: [String: [UInt8]]) -> Attachments {
    Attachments(
      read: { name in
        guard let f = files[name] else {
          throw AttachmentError(path: name, message: "no such file")
        }
        return f
      },
      size: { files[$0]?.count })
  }
}

/// An invoice PDF that cannot be attached.
public struct AttachmentError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var message: String
  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }
  public var description: String { "attachment \(path): \(message)" }
}
