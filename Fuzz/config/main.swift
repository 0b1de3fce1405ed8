// The config file: Config.parse(bytes:file:folder:).
import HerinnerInput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.config(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
