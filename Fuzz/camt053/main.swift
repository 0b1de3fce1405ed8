// CAMT.053 XML: the CAMT reader and StatementFile's format detection.
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.camt053(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
