// Templates: parse, schema check and render (text and HTML), with partials.
import HerinnerLetters

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzLetters.templates(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
