// The interest table (interestRates): InterestRateFile.parse, then interest computed on it.
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.interestRates(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
