"""Log lines of bounded size: whatever a sender puts into a message, one log line stays short.

:class:`BoundedFormatter` escapes control characters in the message (a value that came off the wire
cannot start a forged log line) and cuts a message longer than :data:`MAX_MESSAGE_CHARS`, and a whole
record (with its traceback) longer than :data:`MAX_RECORD_CHARS`, with a marker saying how much was
left out. Every program of the project logs through it (:func:`configure`).
"""

from __future__ import annotations

import logging
import sys

#: Longest message part of one log line (characters).
MAX_MESSAGE_CHARS = 2000
#: Longest formatted record, traceback included (characters).
MAX_RECORD_CHARS = 8000
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = {c: f"\\x{c:02x}" for c in range(32) if c != 9} | {127: "\\x7f"}


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and a marker saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} characters cut]"


class BoundedFormatter(logging.Formatter):
    """A :class:`logging.Formatter` whose lines have a bounded size (see the module docstring)."""

    def __init__(self, fmt: str = FORMAT, *args, **kwargs) -> None:
        super().__init__(fmt, *args, **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Cut first (an 8 MB message costs no more than a short one), then escape, then cut what the
        # escapes added.
        record.message = cut(cut(record.message, MAX_MESSAGE_CHARS).translate(_CONTROL), MAX_MESSAGE_CHARS)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return cut(super().format(record), MAX_RECORD_CHARS)


def configure(level: int = logging.INFO, stream=None) -> None:
    """Log to ``stream`` (stderr) through a :class:`BoundedFormatter` (as ``logging.basicConfig``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(BoundedFormatter())
    logging.basicConfig(level=level, handlers=[handler])
