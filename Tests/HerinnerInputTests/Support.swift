import Foundation

/// A fresh folder under the system temp dir, removed when the test value goes away.
final class TempDir {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "herinner-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  @discardableResult
  func write(_ name: String, _ text: String) -> String {
    let p = (path as NSString).appendingPathComponent(name)
    try! FileManager.default.createDirectory(
      atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
    return p
  }
}
