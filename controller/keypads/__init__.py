"""Controller side of the keypads: the serial reader, keypad state/health and keypad assignment."""
