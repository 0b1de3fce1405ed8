import Foundation
import HerinnerApp
import HerinnerCore

/// Writes an `export`'s dossiers: folders, copies of the archived messages and PDFs, the
/// server's reply next to each message, the CSV.
public enum DossierWriter {
  public static func write(_ e: DossierExport) throws {
    let fm = FileManager.default
    for d in e.dossiers { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
    for c in e.copies {
      if c.optional && !fm.fileExists(atPath: c.from) { continue }
      try? fm.removeItem(atPath: c.to)
      try fm.copyItem(atPath: c.from, toPath: c.to)
    }
    for f in e.files { try f.contents.write(toFile: f.path, atomically: true, encoding: .utf8) }
    try fm.createDirectory(atPath: e.folder, withIntermediateDirectories: true)
    try e.csv.write(toFile: e.csvPath, atomically: true, encoding: .utf8)
  }
}
