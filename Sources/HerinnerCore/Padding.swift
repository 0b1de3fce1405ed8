extension String {
  /// Left-padded with `fill` to `width` characters (the one padding helper: dates, stamps,
  /// hex digests and tokens).
  public func leftPadded(to width: Int, with fill: Character = "0") -> String {
    count >= width ? self : String(repeating: fill, count: width - count) + self
  }
}

extension BinaryInteger {
  /// In decimal, left-padded with zeros to `width` digits.
  public func zeroPadded(_ width: Int) -> String { String(self).leftPadded(to: width) }
}
