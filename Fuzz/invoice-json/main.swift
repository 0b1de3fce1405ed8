// The invoice JSON: JSONParser, then InvoiceSource's row checks.
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.invoiceJSON(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
