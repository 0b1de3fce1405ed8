import Foundation

/// One message found in an input: where it came from and its bytes.
public struct MailInput: Sendable {
  /// The file, or `FILE#N` for the N-th message (from 1) of an mbox.
  public var name: String
  public var bytes: [UInt8]
  public init(name: String, bytes: [UInt8]) {
    self.name = name
    self.bytes = bytes
  }
}

/// Splits files into messages. Pure.
public enum Mbox {
  /// True when the bytes start with an mbox `From ` separator line.
  public static func isMbox(_ bytes: [UInt8]) -> Bool {
    bytes.starts(with: Array("From ".utf8))
  }

  /// The messages of an mbox: each starts after a `From ` line that opens the file or follows
  /// a blank line; `>From ` quoting is undone one level (mboxrd, as written by mail clients).
  public static func messages(_ bytes: [UInt8]) -> [[UInt8]] {
    let lines = Lines(bytes)
    var out: [[UInt8]] = []
    var current: [UInt8] = []
    var open = false
    var previousBlank = true
    for i in 0..<lines.count {
      let r = lines.ranges[i]
      let line = bytes[r]
      if previousBlank && isSeparator(line) {
        if open { out.append(trimmed(current)) }
        current = []
        open = true
        previousBlank = false
        continue
      }
      previousBlank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
      guard open else { continue }
      var l = Array(line)
      if let gt = l.firstIndex(where: { $0 != 0x3E }), gt > 0,
        l[gt...].starts(with: Array("From ".utf8))
      {
        l.removeFirst()
      }
      current += l
      current.append(0x0A)
    }
    if open { out.append(trimmed(current)) }
    return out
  }

  /// The bytes after the first line.
  public static func droppingFromLine(_ bytes: [UInt8]) -> [UInt8] {
    guard let lf = bytes.firstIndex(of: 0x0A) else { return [] }
    return Array(bytes[(lf + 1)...])
  }

  /// `From sender Sat Oct  4 08:00:09 2025` (RFC 4155): a sender, then a date with a time.
  static func isSeparator<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
    guard line.starts(with: Array("From ".utf8)) else { return false }
    let tokens = line.split(separator: 0x20)
    return tokens.count >= 6 && tokens.contains { $0.filter { $0 == 0x3A }.count == 2 }
  }

  /// The blank line before the next separator belongs to the separator (RFC 4155).
  static func trimmed(_ b: [UInt8]) -> [UInt8] {
    var b = b
    if b.count >= 2 && b[b.count - 1] == 0x0A && b[b.count - 2] == 0x0A { b.removeLast() }
    return b
  }
}

/// Why an input could not be read at all.
public struct MailInputError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }
}

/// Reads the inputs a user names: an .eml file, an mbox file, a Maildir (its `new/` and
/// `cur/`, never `tmp/`, where messages are still being written), or a folder of message files.
public enum MailInputs {
  public static func read(_ path: String) throws -> [MailInput] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw MailInputError(path: path, message: "no such file or folder")
    }
    if !isDir.boolValue { return try file(path) }
    let fm = FileManager.default
    let sub = ["new", "cur"].map { (path as NSString).appendingPathComponent($0) }
    let maildir =
      sub.contains { fm.fileExists(atPath: $0) }
      || fm.fileExists(atPath: (path as NSString).appendingPathComponent("tmp"))
    let folders = maildir ? sub : [path]
    var out: [MailInput] = []
    for folder in folders {
      guard let names = try? fm.contentsOfDirectory(atPath: folder) else { continue }
      for name in names.sorted() where !name.hasPrefix(".") {
        let p = (folder as NSString).appendingPathComponent(name)
        var d: ObjCBool = false
        guard fm.fileExists(atPath: p, isDirectory: &d), !d.boolValue else { continue }
        out += try file(p)
      }
    }
    return out
  }

  static func file(_ path: String) throws -> [MailInput] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw MailInputError(path: path, message: "cannot be read (check the file's permissions)")
    }
    let bytes = [UInt8](data)
    guard Mbox.isMbox(bytes) else { return [MailInput(name: path, bytes: bytes)] }
    // An .eml file is one message; a From_ line before it (as some tools save them) is dropped.
    if path.lowercased().hasSuffix(".eml") {
      return [MailInput(name: path, bytes: Mbox.droppingFromLine(bytes))]
    }
    let messages = Mbox.messages(bytes)
    if messages.count == 1 { return [MailInput(name: path, bytes: messages[0])] }
    return messages.enumerated().map {
      MailInput(name: "\(path)#\($0.offset + 1)", bytes: $0.element)
    }
  }
}
