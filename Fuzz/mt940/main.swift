// MT940: the MT940 reader on the decoded text.
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.mt940(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
