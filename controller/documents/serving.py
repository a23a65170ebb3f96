"""Sending a watermarked copy over HTTP: the shared base file, then the holder's tail, with ranges.

The response streams the base from disk in large blocks (it stays in the page cache, shared by every
delegate's copy) followed by the tail, with an exact ``Content-Length`` and a strong ``ETag`` per
copy. Single byte ranges are answered (``206``), which is how pdf.js on a tablet fetches the pages it
shows first of a long document. Copies are personal: ``Cache-Control: private, no-store``, never
cached by a proxy, and ``Content-Disposition: inline`` with the document's file name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from urllib.parse import quote

from flask import Request, Response

from controller.documents.copies import Copy

BLOCK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _ranged(copy: Copy, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start``..``end`` (inclusive) of base + tail."""
    if start < copy.base_length:
        with open(copy.base, "rb", buffering=0) as f:
            f.seek(start)
            left = min(end + 1, copy.base_length) - start
            while left > 0:
                block = f.read(min(BLOCK, left))
                if not block:
                    raise OSError("the stored document base is shorter than recorded")
                left -= len(block)
                yield block
    if end >= copy.base_length:
        yield copy.tail[max(start - copy.base_length, 0) : end + 1 - copy.base_length]


def _range(header: str | None, length: int) -> tuple[int, int] | None:
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):  # the last N bytes
        n = int(m.group(2))
        return (max(length - n, 0), length - 1) if n else None
    start = int(m.group(1))
    end = min(int(m.group(2)), length - 1) if m.group(2) else length - 1
    return (start, end) if start <= end else None


def copy_response(copy: Copy, request: Request, filename: str, copy_id: str) -> Response:
    """The HTTP response for ``copy``; ``copy_id`` names the copy (version + holder) for the ETag."""
    etag = hashlib.sha256(f"{copy_id}:{copy.length}".encode()).hexdigest()[:32]
    headers = {
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    wanted = _range(request.headers.get("Range"), copy.length)
    if request.headers.get("If-Range") not in (None, f'"{etag}"'):
        wanted = None
    if request.headers.get("Range") and wanted is None and _RANGE.match(request.headers["Range"].strip()):
        headers["Content-Range"] = f"bytes */{copy.length}"
        return Response(status=416, headers=headers)
    start, end = wanted or (0, copy.length - 1)
    headers["Content-Length"] = str(end - start + 1)
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{copy.length}"
    return Response(
        _ranged(copy, start, end),
        status=206 if wanted else 200,
        mimetype="application/pdf",
        headers=headers,
        direct_passthrough=True,
    )
