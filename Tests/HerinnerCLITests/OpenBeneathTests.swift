import CHerinnerSystem
import Foundation
import Testing

/// The kernel-enforced second line of defence for attachments: nothing outside the folder opens.
@Suite struct OpenBeneathTests {
  @Test func onlyFilesInsideTheFolderOpen() throws {
    let base = NSTemporaryDirectory() + "herinner-beneath-" + UUID().uuidString
    let fm = FileManager.default
    try fm.createDirectory(atPath: base + "/pdf/sub", withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: base) }
    fm.createFile(atPath: base + "/pdf/sub/a.pdf", contents: Data("%PDF".utf8))
    fm.createFile(atPath: base + "/secret.txt", contents: Data("geheim".utf8))
    try fm.createSymbolicLink(atPath: base + "/pdf/inside.pdf", withDestinationPath: "sub/a.pdf")
    try fm.createSymbolicLink(atPath: base + "/pdf/out.pdf", withDestinationPath: "../secret.txt")
    try fm.createSymbolicLink(
      atPath: base + "/pdf/abs.pdf", withDestinationPath: base + "/secret.txt")
    let dir = open(base + "/pdf", O_RDONLY | O_DIRECTORY)
    #expect(dir >= 0)
    defer { close(dir) }
    func opens(_ p: String) -> Bool {
      let fd = herinner_open_beneath(dir, p)
      if fd >= 0 { close(fd) }
      return fd >= 0
    }
    #expect(opens("sub/a.pdf"))
    #expect(opens("inside.pdf"))
    for escape in [
      "../secret.txt", "sub/../../secret.txt", "out.pdf", "abs.pdf", base + "/secret.txt",
    ] {
      #expect(!opens(escape), "\(escape) opened")
    }
  }
}
