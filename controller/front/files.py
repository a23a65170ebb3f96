"""``GET /d/<ref>/file`` on the front: a delegate's watermarked copy, sent by the event loop.

Who is asking and what they receive is decided in the front's document pool by the code the Flask
view uses: :meth:`controller.documents.delegate_access.DelegateAccess.reader_from` (the portal's
session cookie, or the badge token), then
:meth:`controller.documents.library.Library.copy` (the access check, the copy made once and cached,
the open row and the audit row; a range that does not start at byte 0 is not a new open). The
answer's status and headers are :func:`controller.documents.serving.copy_plan`'s, with the controller
page's security headers. The loop then sends the bytes: the shared base, over TLS from a read-only
mapping of the file shared by every response (:class:`SharedBases`: slices of the page cache
written as the tablet takes them, no thread; see there why not asyncio's ``sendfile`` fallback),
without TLS with ``loop.sendfile`` (the kernel's ``sendfile``), then the delegate's few-kilobyte
tail. Over TLS a block of :data:`BLOCK` bytes is handed to the TLS layer only when the connection
has taken the previous ones (:meth:`controller.front.listener.CappedProtocol.writable`, below
:data:`controller.front.listener.WRITE_HIGH`), so what a tablet has waiting for it is bounded
whatever its speed (:class:`SendStats` keeps the largest amount seen). A slow tablet holds a
coroutine and a few tens of kilobytes, never a thread.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import threading
from concurrent.futures import Executor
from pathlib import Path

from aiohttp import web

from controller.documents.copies import Copy
from controller.documents.delegate_access import credentials_from
from controller.documents.library import Library, NotFound
from controller.documents.serving import copy_plan
from controller.front.listener import CappedProtocol
from controller.front.texts import Texts
from controller.web.guard import CSP, HSTS, PERMISSIONS_POLICY, SECURITY_HEADERS

log = logging.getLogger(__name__)

#: Bytes handed to the TLS layer at a time: one TLS record (OpenSSL's memory buffer for the encrypted
#: bytes grows to the largest amount ever waiting in it and keeps that size).
BLOCK = 16 * 1024


class SendStats:
    """What a loop's copies had waiting in their connections' write buffers (touched in that loop)."""

    def __init__(self) -> None:
        self.peak_buffered = 0  # the most bytes one connection held after a block was handed over
        self.waits = 0  # times a sender waited for its connection to take what it had

    def merge(self, other: SendStats) -> None:
        self.peak_buffered = max(self.peak_buffered, other.peak_buffered)
        self.waits += other.waits


def page_headers(tls: bool) -> dict[str, str]:
    """The controller page's security headers (:mod:`controller.web.guard`), for the front's answers."""
    headers = {"Content-Security-Policy": CSP, **SECURITY_HEADERS, "Permissions-Policy": PERMISSIONS_POLICY}
    if tls:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _first_open(range_header: str) -> bool:
    # A range request that does not start at 0 is pdf.js fetching more of a copy already opened.
    return not range_header or range_header.replace(" ", "").startswith("bytes=0-")


class CopyHandler:
    """The aiohttp handler of ``/d/{ref}/file`` and ``/d/{ref}/v/{version}/file``."""

    def __init__(
        self, library: Library, pool: Executor, bases: SharedBases, *, tls: bool, texts: Texts,
        stats: SendStats | None = None,
    ) -> None:
        self.library, self.pool, self.bases, self.tls, self.texts = library, pool, bases, tls, texts
        self.stats = stats if stats is not None else SendStats()

    def _resolve(self, creds: dict, ref: str, version: int | None, first: bool):
        reader = self.library.access.reader_from(**creds)
        return self.library.copy(reader, ref, version, record=first)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        ref = request.match_info["ref"]
        version_text = request.match_info.get("version")
        if version_text is not None and not version_text.isdigit():
            return self._not_found(request)
        version = int(version_text) if version_text else None
        rng = request.headers.get("Range", "")
        creds = credentials_from(request.headers, request.cookies)
        loop = asyncio.get_running_loop()
        try:
            copy, filename, copy_id = await loop.run_in_executor(
                self.pool, self._resolve, creds, ref, version, _first_open(rng)
            )
        except NotFound:
            return self._not_found(request)
        plan = copy_plan(copy, rng or None, request.headers.get("If-Range"), filename, copy_id)
        resp = web.StreamResponse(status=plan.status, headers={**plan.headers, **page_headers(self.tls)})
        if plan.status == 416:
            resp.content_length = 0
            await resp.prepare(request)
            return resp
        resp.content_length = plan.end - plan.start + 1
        await resp.prepare(request)
        if request.method != "HEAD":
            await self._send(request, resp, copy, plan.start, plan.end)
        await resp.write_eof()
        return resp

    def _not_found(self, request: web.Request) -> web.Response:
        # Exactly what the Flask view answers for a document the reader may not have.
        return web.json_response(
            {"error": self.texts.say(request, NotFound().text)},
            status=404,
            headers={**page_headers(self.tls), "Cache-Control": "no-store"},
        )

    async def _send(
        self, request: web.Request, resp: web.StreamResponse, copy: Copy, start: int, end: int
    ) -> None:
        """Bytes ``start``..``end`` of base + tail: the base from the page cache, then the tail."""
        if start < copy.base_length:
            count = min(end + 1, copy.base_length) - start
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the tablet went away")
            if self.tls:
                await self._send_blocks(resp, transport, self.bases.view(copy.base), start, start + count)
            else:
                with open(copy.base, "rb") as f:
                    await asyncio.get_running_loop().sendfile(transport, f, start, count)
        if end >= copy.base_length:
            await resp.write(copy.tail[max(start - copy.base_length, 0) : end + 1 - copy.base_length])

    async def _send_blocks(
        self, resp: web.StreamResponse, transport: asyncio.Transport, view: memoryview, start: int, stop: int
    ) -> None:
        """``view[start:stop]`` in blocks, each once the connection has taken what it had."""
        conn = transport.get_protocol()
        if not isinstance(conn, CappedProtocol):  # every connection of the front is one
            raise TypeError(f"a front connection without flow control: {type(conn).__name__}")
        stats = self.stats
        for at in range(start, stop, BLOCK):
            if conn.paused:
                stats.waits += 1
                await conn.writable()
            await resp.write(view[at : min(at + BLOCK, stop)])
            buffered = transport.get_write_buffer_size()
            if buffered > stats.peak_buffered:
                stats.peak_buffered = buffered


class SharedBases:
    """Every version's base file mapped once (read-only) and shared by all the loops' responses.

    Over TLS the kernel cannot ``sendfile`` (the bytes must pass through the TLS layer), and asyncio's
    fallback reads 16 KiB per round trip through a thread: about 1,300 thread hops per 20 MB copy,
    which was most of the front's time with 2,000 tablets. A mapping lets the loop hand slices of the
    page cache straight to the TLS layer (no copy, no thread); a base is written once and never
    changed, so a mapping stays valid (a withdrawn version's file is unlinked, its pages live until
    the mapping is dropped)."""

    def __init__(self) -> None:
        self._maps: dict[Path, tuple[mmap.mmap, memoryview]] = {}
        self._lock = threading.Lock()

    def view(self, path: Path) -> memoryview:
        found = self._maps.get(path)
        if found is None:
            with self._lock:
                found = self._maps.get(path)
                if found is None:
                    with open(path, "rb") as f:
                        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    mapped.madvise(mmap.MADV_WILLNEED)  # read ahead now, so the loop seldom waits on disk
                    found = self._maps[path] = (mapped, memoryview(mapped))
        return found[1]

    def close(self) -> None:
        """Drop the mappings (at shutdown; one still lent to a dying response goes with it)."""
        with self._lock:
            for mapped, view in self._maps.values():
                try:
                    view.release()
                    mapped.close()
                except BufferError:
                    pass
            self._maps.clear()
