// Returned mail: MIME reader, bounce report, mbox splitting.
import HerinnerBounces

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzBounces.mail(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
