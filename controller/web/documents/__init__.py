"""Document pages: the library for staff, and the delegate-facing fetch of watermarked copies."""
