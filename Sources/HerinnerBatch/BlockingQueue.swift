import Dispatch
import Synchronization

/// A first-in-first-out queue between threads: `take` blocks until an element arrives or the
/// queue is closed. Unbounded: the group commit decides how much is in it.
final class BlockingQueue<Element: Sendable>: Sendable {
  private struct State {
    var items: [Element] = []
    var head = 0
    var closed = false
  }
  private let state = Mutex(State())
  /// One signal per element put, and one more when closed (passed on by each taker that finds
  /// the queue closed and empty, so every waiting thread wakes).
  private let available = DispatchSemaphore(value: 0)

  init() {}

  /// Adds an element; after `close` it is dropped (nobody would take it).
  func put(_ element: Element) {
    let accepted = state.withLock { s -> Bool in
      guard !s.closed else { return false }
      s.items.append(element)
      return true
    }
    if accepted { available.signal() }
  }

  func put(contentsOf elements: [Element]) {
    for e in elements { put(e) }
  }

  /// The next element; nil once the queue is closed and empty.
  func take() -> Element? {
    while true {
      available.wait()
      let (element, closed) = state.withLock { s -> (Element?, Bool) in
        guard s.head < s.items.count else { return (nil, s.closed) }
        let e = s.items[s.head]
        s.head += 1
        if s.head == s.items.count {
          s.items.removeAll(keepingCapacity: true)
          s.head = 0
        }
        return (e, s.closed)
      }
      if let element { return element }
      if closed {
        available.signal()
        return nil
      }
      // A signal left by an element that `drain` took: wait for the next one.
    }
  }

  /// Takes everything waiting, without blocking.
  func drain() -> [Element] {
    state.withLock { s in
      let rest = Array(s.items[s.head...])
      s.items.removeAll()
      s.head = 0
      return rest
    }
  }

  /// Wakes every waiting `take`; later `put`s are dropped.
  func close() {
    let first = state.withLock { s -> Bool in
      defer { s.closed = true }
      return !s.closed
    }
    if first { available.signal() }
  }
}
