import Foundation
import HerinnerApp
import HerinnerCore

/// `payments.importFrom`: the statement files in a folder not imported before (known by their
/// content), oldest name first. A file that cannot be read is moved into `rejected/` beside
/// them, so that it is neither retried every night nor lost, and the night goes on.
public final class StatementFolder: StatementInbox {
  let folder: String
  let store: any PaymentStore
  let csvColumns: [String: String]

  public init(folder: String, store: any PaymentStore, csvColumns: [String: String]) {
    self.folder = folder
    self.store = store
    self.csvColumns = csvColumns
  }

  public func importNew(invoices: [Invoice]) throws -> (lines: [String], problems: [String]) {
    let fm = FileManager.default
    let names: [String]
    do { names = try fm.contentsOfDirectory(atPath: folder).sorted() } catch {
      return ([], ["payments.importFrom: cannot read the folder \(folder)"])
    }
    var fresh: [(name: String, bytes: [UInt8]?)] = []
    var problems: [String] = []
    for name in names where !name.hasPrefix(".") {
      let path = (folder as NSString).appendingPathComponent(name)
      var dir: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &dir), !dir.boolValue else { continue }
      // A file that cannot be read is refused like a malformed one, and set aside.
      fresh.append((path, fm.contents(atPath: path).map { [UInt8]($0) }))
    }
    let r = try ImportStatements(
      store: store, invoices: invoices, csvColumns: csvColumns,
      read: { fm.contents(atPath: $0).map { [UInt8]($0) } }
    ).run(fresh, quietWhenKnown: true)
    problems += r.problems
    for file in r.refused { problems.append(setAside(file)) }
    return (r.lines, problems)
  }

  /// Moves a refused file into `rejected/` (never over another file of that name).
  func setAside(_ file: String) -> String {
    let fm = FileManager.default
    let aside = (folder as NSString).appendingPathComponent("rejected")
    try? fm.createDirectory(atPath: aside, withIntermediateDirectories: true)
    let name = (file as NSString).lastPathComponent
    var target = (aside as NSString).appendingPathComponent(name)
    var n = 1
    while fm.fileExists(atPath: target) {
      n += 1
      target = (aside as NSString).appendingPathComponent(name) + ".\(n)"
    }
    do {
      try fm.moveItem(atPath: file, toPath: target)
      return "\(file): not imported, moved to \(target); fix or replace it"
    } catch {
      return "\(file): not imported, and it could not be moved to \(aside)"
    }
  }
}
