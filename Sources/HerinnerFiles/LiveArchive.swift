import CHerinnerSystem
import Foundation
import HerinnerCore
import Synchronization

extension Archive {
  /// The archive as files under `root`: `<root>/<date>/<invoice>-<step>-<token>.eml`.
  ///
  /// Each file's write-back starts as soon as it is written; `flush` then makes the group's
  /// files durable with one fdatasync(2) each (all at once) and an fsync(2) of the folders that
  /// gained names, so it waits for this archive's own writes only, never for the dirty data of
  /// every other program on the file system as syncfs(2) would (see Benchmarks/RESULTS.md).
  public static func live(root: String) -> Archive {
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let buffers = AlignedBuffers()
    let pending = PendingFiles(root: root)
    return Archive(
      write: { name, bytes in
        let path = (root as NSString).appendingPathComponent(name)
        let folder = (path as NSString).deletingLastPathComponent
        var created = mkdir(folder, 0o755) == 0
        if !created && errno != EEXIST {
          // A root removed since the start, or nested names: the careful way.
          try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true)
          created = true
        }
        let fd: Int32
        do { fd = try ArchiveFile.write(bytes, to: path, buffers: buffers) } catch {
          // A file cut short proves nothing and no message goes out with it.
          unlink(path)
          throw error
        }
        try pending.add(fd, path: path, folder: folder, newFolder: created)
        return path
      },
      remove: { path in _ = unlink(path) },
      flush: { try pending.makeDurable() })
  }
}

/// The files written since the last flush, still open, and the folders that gained names.
final class PendingFiles: Sendable {
  struct File: Sendable {
    var fd: Int32
    var path: String
  }
  struct State: Sendable {
    var files: [File] = []
    var folders: Set<String> = []
  }
  /// More open files than this (a caller that never flushes) are made durable on the spot.
  static let limit = 256
  private let root: String
  private let state = Mutex(State())

  init(root: String) { self.root = root }

  func add(_ fd: Int32, path: String, folder: String, newFolder: Bool) throws {
    let overflow = state.withLock { s -> [File] in
      s.files.append(File(fd: fd, path: path))
      s.folders.insert(folder)
      // A new folder's own name lives in its parent.
      if newFolder { s.folders.insert((folder as NSString).deletingLastPathComponent) }
      guard s.files.count > Self.limit else { return [] }
      defer { s.files.removeAll(keepingCapacity: true) }
      return s.files
    }
    if !overflow.isEmpty { try Self.sync(overflow) }
  }

  /// Durable on return: every pending file's data and size, and every new name (POSIX leaves
  /// a new file's directory entry to an fsync of the directory).
  func makeDurable() throws {
    let (files, folders) = state.withLock { s in
      defer { s = State() }
      return (s.files, s.folders)
    }
    try Self.sync(files)
    for folder in folders.sorted(by: { $0.count > $1.count }) {
      let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard fd >= 0 else {
        throw FileError(path: folder, operation: "open the archive folder", errno: errno)
      }
      defer { close(fd) }
      if fsync(fd) != 0 {
        throw FileError(path: folder, operation: "flush the archive folder", errno: errno)
      }
    }
  }

  /// fdatasync every file, up to 16 at once each on its own thread, so the block layer can
  /// merge their cache flushes (one device flush for a group instead of one per file); closes
  /// them all, then throws the first failure.
  private static func sync(_ files: [File]) throws {
    let failures = Failures()
    let width = SyncThreads.count + 1
    for chunk in stride(from: 0, to: files.count, by: width) {
      let done = DispatchGroup()
      for i in (chunk..<min(chunk + width, files.count)).dropFirst() {
        let fd = files[i].fd
        done.enter()
        SyncThreads.shared.run {
          if fdatasync(fd) != 0 { failures.note(i, errno) }
          done.leave()
        }
      }
      if fdatasync(files[chunk].fd) != 0 { failures.note(chunk, errno) }
      done.wait()
    }
    for f in files { close(f.fd) }
    if let (i, e) = failures.first {
      throw FileError(path: files[i].path, operation: "flush the archive", errno: e)
    }
  }

  private final class Failures: Sendable {
    private let noted = Mutex<[Int: Int32]>([:])
    func note(_ file: Int, _ errno: Int32) { noted.withLock { $0[file] = errno } }
    var first: (Int, Int32)? {
      noted.withLock { $0.min { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
  }
}

/// Threads that run the flushes' fdatasync calls, made once for the process (a thread made per
/// call costs more CPU than the call).
final class SyncThreads: Sendable {
  static let count = 15
  static let shared = SyncThreads()
  private let jobs = Mutex<[@Sendable () -> Void]>([])
  private let ready = DispatchSemaphore(value: 0)

  private init() {
    for _ in 0..<Self.count {
      Thread.detachNewThread { [self] in
        while true {
          ready.wait()
          if let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { job() }
        }
      }
    }
  }

  func run(_ job: @escaping @Sendable () -> Void) {
    jobs.withLock { $0.append(job) }
    ready.signal()
  }
}

/// Writes one archived message. It is written once and not read back during the night, so it
/// bypasses the page cache (O_DIRECT) where the file system allows (see Benchmarks/RESULTS.md);
/// elsewhere (tmpfs, …) it is an ordinary write. Returns the open file, its write-back started
/// (sync_file_range(2)); the group's flush makes it durable.
enum ArchiveFile {
  static let block = 4096

  static func write(_ bytes: [UInt8], to path: String, buffers: AlignedBuffers) throws -> Int32 {
    let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
    let fd = open(path, flags | herinner_o_direct(), 0o644)
    if fd >= 0 {
      do {
        if try writeDirect(bytes, fd: fd, path: path, buffers: buffers) {
          _ = herinner_start_writeback(fd)
          return fd
        }
      } catch {
        close(fd)
        throw error
      }
      close(fd)
    }
    let plain = open(path, flags, 0o644)
    guard plain >= 0 else {
      throw FileError(path: path, operation: "write the archive", errno: errno)
    }
    if let e = bytes.withUnsafeBytes({ b in
      transferAll(b.count) { done in
        pwrite(plain, b.baseAddress! + done, b.count - done, off_t(done))
      }
    }) {
      close(plain)
      throw FileError(path: path, operation: "write the archive", errno: e)
    }
    _ = herinner_start_writeback(plain)
    return plain
  }

  /// Whole blocks straight to the disk, the tail (under one block) through the page cache, so
  /// the file needs no padding. False when the file system refuses O_DIRECT after all.
  static func writeDirect(_ bytes: [UInt8], fd: Int32, path: String, buffers: AlignedBuffers)
    throws -> Bool
  {
    let whole = bytes.count / block * block
    if whole > 0 {
      let buffer = buffers.take(whole)
      defer { buffers.give(buffer) }
      bytes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: whole) }
      let first = pwrite(fd, buffer.pointer, whole, 0)
      if first < 0 && errno == EINVAL { return false }
      let start = max(first, 0)
      if first < 0 && errno != EINTR {
        throw FileError(path: path, operation: "write the archive", errno: errno)
      }
      if let e = transferAll(
        whole - start,
        { done in
          pwrite(fd, buffer.pointer + start + done, whole - start - done, off_t(start + done))
        })
      {
        throw FileError(path: path, operation: "write the archive", errno: e)
      }
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~herinner_o_direct())
    if let e = bytes.withUnsafeBytes({ b in
      transferAll(b.count - whole) { done in
        pwrite(fd, b.baseAddress! + whole + done, b.count - whole - done, off_t(whole + done))
      }
    }) {
      throw FileError(path: path, operation: "write the archive", errno: e)
    }
    return true
  }
}

/// Page-aligned buffers for O_DIRECT, reused across messages (fresh pages cost a fault each).
final class AlignedBuffers: Sendable {
  struct Buffer: @unchecked Sendable {
    var pointer: UnsafeMutableRawPointer
    var size: Int
  }
  private let free = Mutex<[Buffer]>([])

  func take(_ size: Int) -> Buffer {
    if let b = free.withLock({ list -> Buffer? in
      guard let i = list.firstIndex(where: { $0.size >= size }) else { return nil }
      return list.remove(at: i)
    }) {
      return b
    }
    let rounded = max(size, 256 * 1024)
    return Buffer(
      pointer: UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: ArchiveFile.block),
      size: rounded)
  }

  func give(_ b: Buffer) {
    free.withLock { list in
      if list.count < 16 { list.append(b) } else { b.pointer.deallocate() }
    }
  }
}
