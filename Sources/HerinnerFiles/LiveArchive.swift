import CHerinnerSystem
import Foundation
import HerinnerCore
import Synchronization

extension Archive {
  /// The archive as files under `root`: `<root>/<date>/<invoice>-<step>-<token>.eml`, made
  /// durable per group by one `syncfs(2)` of the archive's file system.
  public static func live(root: String) -> Archive {
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let buffers = AlignedBuffers()
    return Archive(
      write: { name, bytes in
        let path = (root as NSString).appendingPathComponent(name)
        let folder = (path as NSString).deletingLastPathComponent
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
          // A root removed since the start, or nested names: the careful way.
          try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true)
        }
        try ArchiveFile.write(bytes, to: path, buffers: buffers)
        return path
      },
      remove: { path in _ = unlink(path) },
      flush: {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: root, operation: "open the archive", errno: errno) }
        defer { close(fd) }
        if herinner_syncfs(fd) != 0 {
          throw FileError(path: root, operation: "flush the archive", errno: errno)
        }
      })
  }
}

/// Writes one archived message. It is written once and not read back during the night, so it
/// bypasses the page cache (O_DIRECT) where the file system allows (see Benchmarks/RESULTS.md);
/// elsewhere (tmpfs, …) it is an ordinary write. Either way the group's flush makes it durable.
enum ArchiveFile {
  static let block = 4096

  static func write(_ bytes: [UInt8], to path: String, buffers: AlignedBuffers) throws {
    let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
    let fd = open(path, flags | herinner_o_direct(), 0o644)
    if fd >= 0 {
      defer { close(fd) }
      if try writeDirect(bytes, fd: fd, path: path, buffers: buffers) { return }
    }
    let plain = open(path, flags, 0o644)
    guard plain >= 0 else { throw FileError(path: path, operation: "write the archive", errno: errno) }
    defer { close(plain) }
    if let e = bytes.withUnsafeBytes({ b in
      transferAll(b.count) { done in pwrite(plain, b.baseAddress! + done, b.count - done, off_t(done)) }
    }) {
      throw FileError(path: path, operation: "write the archive", errno: e)
    }
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
      if let e = transferAll(whole - start, { done in
        pwrite(fd, buffer.pointer + start + done, whole - start - done, off_t(start + done))
      }) {
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
