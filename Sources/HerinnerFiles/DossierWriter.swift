import Foundation
import HerinnerCore
import HerinnerApp

/// Writes an `export`'s dossiers: folders, copies of the archived messages and PDFs, the CSV.
public enum DossierWriter {
  public static func write(_ e: DossierExport) throws {
    let fm = FileManager.default
    for d in e.dossiers { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
    for c in e.copies {
      if c.optional && !fm.fileExists(atPath: c.from) { continue }
      try? fm.removeItem(atPath: c.to)
      try fm.copyItem(atPath: c.from, toPath: c.to)
    }
    try fm.createDirectory(atPath: e.folder, withIntermediateDirectories: true)
    try e.csv.write(toFile: e.csvPath, atomically: true, encoding: .utf8)
  }
}
