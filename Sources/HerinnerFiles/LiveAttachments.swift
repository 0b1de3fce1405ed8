import CHerinnerSystem
import Foundation
import HerinnerCore
import HerinnerInput

extension Attachments {
  /// The invoice PDFs under `folder`, read only from inside it: the row checks already refuse
  /// escapes, this is the second line of defence, enforced by the kernel where it can be
  /// (openat2 with RESOLVE_BENEATH); else, or for an absolute symlink that stays inside, the
  /// resolved path must lie under the folder.
  public static func live(folder: String) -> Attachments {
    let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
    // Open for the life of the process: every read of the night resolves beneath it.
    let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    @Sendable func openInside(_ relative: String) throws -> Int32 {
      var fd: Int32 = -1
      var why = ENOSYS
      if rootFD >= 0 && !relative.hasPrefix("/") {
        fd = herinner_open_beneath(rootFD, relative)
        if fd < 0 { why = errno }
      }
      if fd < 0 && (why == ENOSYS || why == EXDEV) {
        let full = URL(fileURLWithPath: root).appendingPathComponent(relative)
          .resolvingSymlinksInPath().path
        guard full.hasPrefix(root + "/") else {
          throw AttachmentError(path: relative, message: "leaves the attachments folder \(root)")
        }
        fd = open(full, O_RDONLY | O_CLOEXEC)
        if fd < 0 { why = errno }
      }
      guard fd >= 0 else {
        throw AttachmentError(
          path: relative, message: "cannot read it in \(root): \(String(cString: strerror(why)))")
      }
      return fd
    }
    return Attachments(
      read: { relative in
        let fd = try openInside(relative)
        defer { close(fd) }
        do { return try FileBytes.read(fd) } catch {
          throw AttachmentError(path: relative, message: "cannot read it: \(error)")
        }
      },
      size: { relative in
        guard let fd = try? openInside(relative) else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Int(st.st_size)
      })
  }
}
