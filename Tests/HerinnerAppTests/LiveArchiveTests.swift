import Foundation
import HerinnerCore
import HerinnerFiles
import Testing

/// The archive on real files: the bytes written are the bytes kept, whatever their length
/// against the O_DIRECT block, on a disk file system and on tmpfs (where O_DIRECT may be
/// refused and the plain write is used).
@Suite struct LiveArchiveTests {
  static let roots: [String] = ["/tmp", "/dev/shm"].filter {
    FileManager.default.isWritableFile(atPath: $0)
  }

  static func fresh(under base: String) -> String {
    base + "/herinner-archive-" + UUID().uuidString
  }

  static func bytes(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ $0 >> 8) }
  }

  @Test(arguments: roots)
  func writtenBytesAreKeptExactly(base: String) throws {
    let root = Self.fresh(under: base)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let archive = Archive.live(root: root)
    let sizes = [0, 1, 4095, 4096, 4097, 8192, 140_001]
    var paths: [String: [UInt8]] = [:]
    for (i, size) in sizes.enumerated() {
      let b = Self.bytes(size, seed: i)
      let path = try archive.write("2026-12-01/B\(i)-first-t\(i).eml", b)
      paths[path] = b
    }
    try archive.flush()
    for (path, b) in paths {
      #expect(path.hasPrefix(root + "/2026-12-01/"))
      #expect(FileManager.default.contents(atPath: path).map([UInt8].init) == b, "\(path)")
    }
    // A flush with nothing written since is a no-op, not an error.
    try archive.flush()
  }

  @Test(arguments: roots)
  func everyGroupIsFlushedAndRemovedFilesDoNotBreakIt(base: String) throws {
    let root = Self.fresh(under: base)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let archive = Archive.live(root: root)
    var kept: [String: [UInt8]] = [:]
    // Over two nights' folders; the first group holds more files than are kept open between
    // flushes.
    for group in 0..<3 {
      for i in 0..<(group == 0 ? 300 : 40) {
        let b = Self.bytes(5000 + i, seed: group * 1000 + i)
        let path = try archive.write("2026-12-0\(1 + group % 2)/B\(group)-\(i)-first.eml", b)
        if i % 10 == 0 {
          archive.remove(path)  // a message never handed to a server
        } else {
          kept[path] = b
        }
      }
      try archive.flush()
    }
    for (path, b) in kept {
      #expect(FileManager.default.contents(atPath: path).map([UInt8].init) == b, "\(path)")
    }
    let names = try FileManager.default.subpathsOfDirectory(atPath: root).filter {
      $0.hasSuffix(".eml")
    }
    #expect(names.count == kept.count)
  }

  @Test func aWriteIntoAFolderThatCannotBeMadeFails() throws {
    let root = Self.fresh(under: "/tmp")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let archive = Archive.live(root: root)
    // A file where the night's folder should be.
    #expect(FileManager.default.createFile(atPath: root + "/2026-12-01", contents: Data()))
    #expect(throws: (any Error).self) { try archive.write("2026-12-01/B1-first.eml", [1, 2, 3]) }
    try archive.flush()
  }
}
