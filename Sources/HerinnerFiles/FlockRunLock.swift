import Foundation
import HerinnerCore

/// The run lock as an `flock` on `<ledger>.lock`: released when the process ends, also by a
/// crash, so a killed run never keeps it. The file names its holder for the next one.
public final class FlockRunLock: RunLock {
  public let path: String
  let clock: WallClock
  private var fd: Int32 = -1

  public init(path: String, clock: WallClock = .system) {
    self.path = path
    self.clock = clock
  }

  public func acquire() throws {
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw FileError(path: path, operation: "open the lock file", errno: errno)
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      var buf = [UInt8](repeating: 0, count: 512)
      let n = pread(fd, &buf, 511, 0)
      close(fd)
      let holder =
        n > 0
        ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(
          in: .whitespacesAndNewlines) : "unknown"
      throw RunLockHeld(place: path, holder: holder)
    }
    ftruncate(fd, 0)
    let me = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: clock.now()))\n"
    _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
    self.fd = fd
  }

  public func release() {
    if fd >= 0 { close(fd) }
    fd = -1
  }

  deinit { release() }
}

/// A file operation that failed: which file, what we tried, and the system's reason.
public struct FileError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var operation: String
  public var errno: Int32
  public init(path: String, operation: String, errno: Int32) {
    self.path = path
    self.operation = operation
    self.errno = errno
  }
  public var description: String {
    "cannot \(operation) \(path): \(String(cString: strerror(errno)))"
  }
}

/// Retries a read or write that the kernel interrupted (EINTR) or cut short, until `count`
/// bytes are done: the one such loop. `step` gets the offset done so far and returns what the
/// system call returned.
func transferAll(_ count: Int, _ step: (Int) -> Int) -> Int32? {
  var done = 0
  while done < count {
    let n = step(done)
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else { return n < 0 ? errno : EIO }
    done += n
  }
  return nil
}
