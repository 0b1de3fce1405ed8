import Foundation
import HerinnerApp
import HerinnerCore
import Testing

@Suite struct NightlySendTests {
  @Test func placeholder() { #expect(Bool(true)) }
}
