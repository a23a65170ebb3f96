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
from dataclasses import dataclass
from urllib.parse import quote

from flask import Request, Response

from controller.documents.copies import Copy

BLOCK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged(copy: Copy, start: int, end: int) -> Iterator[bytes]:
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


@dataclass(frozen=True)
class CopyPlan:
    """What to send of a copy: status, headers and the inclusive byte span (none for a 416)."""

    status: int
    headers: dict[str, str]
    start: int = 0
    end: int = -1


def copy_plan(
    copy: Copy, range_header: str | None, if_range: str | None, filename: str, copy_id: str
) -> CopyPlan:
    """The response for ``copy`` without any web framework (the Flask view and the tablet front
    both answer from it); ``copy_id`` names the copy (version + holder) for the ETag."""
    etag = hashlib.sha256(f"{copy_id}:{copy.length}".encode()).hexdigest()[:32]
    headers = {
        "Content-Type": "application/pdf",
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    if if_range not in (None, f'"{etag}"'):
        range_header = None  # the client's copy is another one: send this one whole (RFC 9110 13.1.5)
    wanted = _range(range_header, copy.length)
    if range_header and wanted is None and _RANGE.match(range_header.strip()):
        headers["Content-Range"] = f"bytes */{copy.length}"
        del headers["Content-Type"]
        return CopyPlan(416, headers)
    start, end = wanted or (0, copy.length - 1)
    headers["Content-Length"] = str(end - start + 1)
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{copy.length}"
    return CopyPlan(206 if wanted else 200, headers, start, end)


def copy_response(copy: Copy, request: Request, filename: str, copy_id: str) -> Response:
    """The Flask response for ``copy`` (:func:`copy_plan`, the bytes streamed by :func:`ranged`)."""
    plan = copy_plan(copy, request.headers.get("Range"), request.headers.get("If-Range"), filename, copy_id)
    if plan.status == 416:
        return Response(status=416, headers=plan.headers)
    headers = dict(plan.headers)
    mimetype = headers.pop("Content-Type")
    return Response(
        ranged(copy, plan.start, plan.end),
        status=plan.status,
        mimetype=mimetype,
        headers=headers,
        direct_passthrough=True,
    )
