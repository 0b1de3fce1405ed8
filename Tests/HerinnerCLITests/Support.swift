import Foundation
import Testing

/// The repository root (this file is Tests/HerinnerCLITests/Support.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The built `herinner` executable; a missing one fails the test loudly.
func herinnerBinary() throws -> String {
  let candidates = [
    ProcessInfo.processInfo.environment["HERINNER_BIN"],
    repoRoot + "/.build/debug/herinner",
    repoRoot + "/.build/release/herinner",
  ].compactMap { $0 }
  guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) })
  else {
    Issue.record("herinner executable not found (tried \(candidates)); run `swift build` first")
    throw CancellationError()
  }
  return path
}

struct RunResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Runs herinner with `arguments` in `directory` and waits for it.
@discardableResult
func herinner(
  _ arguments: [String], in directory: String = repoRoot, environment: [String: String] = [:]
) throws -> RunResult {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: try herinnerBinary())
  p.arguments = arguments
  p.currentDirectoryURL = URL(fileURLWithPath: directory)
  var env = ProcessInfo.processInfo.environment
  for (k, v) in environment { env[k] = v }
  p.environment = env
  let out = Pipe()
  let err = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = FileHandle.nullDevice
  try p.run()
  // Read both pipes before waiting so a large output cannot block the child.
  let group = DispatchGroup()
  nonisolated(unsafe) var outData = Data()
  nonisolated(unsafe) var errData = Data()
  group.enter()
  DispatchQueue.global().async {
    outData = out.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  errData = err.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  p.waitUntilExit()
  return RunResult(
    status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

/// A scratch copy of the example administration (config, invoices, PDFs, templates).
final class ExampleCopy {
  let path: String
  init() throws {
    path = NSTemporaryDirectory() + "herinner-cli-" + UUID().uuidString
    let fm = FileManager.default
    try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
    try fm.copyItem(atPath: repoRoot + "/Examples", toPath: path + "/Examples")
    try fm.copyItem(atPath: repoRoot + "/Templates", toPath: path + "/Templates")
    try fm.copyItem(atPath: repoRoot + "/Data", toPath: path + "/Data")
    try fm.copyItem(atPath: repoRoot + "/config.example.json", toPath: path + "/herinner.json")
    for leftover in ["Examples/herinner.sqlite", "Examples/archive"] {
      try? fm.removeItem(atPath: path + "/" + leftover)
    }
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  var config: String { path + "/herinner.json" }

  func write(_ name: String, _ text: String) {
    FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8))
  }

  func files() -> [String] {
    (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
  }
}
