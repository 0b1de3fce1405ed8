// Bank CSV/TAB exports: every recognised layout and configured columns.
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.bankCSV(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
