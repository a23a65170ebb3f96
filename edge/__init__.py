"""Door-unit firmware: camera to a signed check-in that is never lost."""
