"""The portal's pages on the front: an aiohttp request run through the Flask (WSGI) app in a thread.

The delegates' pages, JSON and static files are small; each request is turned into a WSGI environ
(PEP 3333), the Flask app is called in the front's bounded page pool (``[portal] page_threads``),
and the whole answer is buffered and handed back to the loop. ``REMOTE_ADDR`` is the peer of the
connection; ``X-Forwarded-For``, ``X-Real-IP`` and ``Forwarded`` are dropped, since nothing sits in
front of the front and a client must not choose its own address (login throttling counts by it).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from urllib.parse import unquote_to_bytes

from aiohttp import web
from multidict import CIMultiDict

from controller.web.guard import FRONT_ENVIRON

#: Headers a client could use to claim another address; never passed on.
UNTRUSTED = frozenset({"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "forwarded"})
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def environ_of(request: web.Request, body: bytes, *, tls: bool, path: str | None = None) -> dict:
    """The WSGI environ of ``request`` (``path`` replaces the request's path when given)."""
    raw_path, _, query = request.raw_path.partition("?")
    peer = request.transport.get_extra_info("peername") if request.transport else None
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    host = request.host or (f"{sockname[0]}:{sockname[1]}" if sockname else "localhost")
    server_name, _, server_port = host.rpartition(":") if ":" in host else (host, "", "")
    env = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path if path is not None else raw_path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server_name or host,
        "SERVER_PORT": server_port or (str(sockname[1]) if sockname else ("443" if tls else "80")),
        "SERVER_PROTOCOL": f"HTTP/{request.version.major}.{request.version.minor}",
        "REMOTE_ADDR": str(peer[0]) if peer else "",
        "REMOTE_PORT": str(peer[1]) if peer else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https" if tls else "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)) if body else "",
        FRONT_ENVIRON: True,  # the app's error pages are the portal's here
    }
    for name, value in request.headers.items():
        low = name.lower()
        if low in UNTRUSTED:
            continue
        if low == "content-type":
            env["CONTENT_TYPE"] = value
            continue
        if low == "content-length":
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        env[key] = f"{env[key]},{value}" if key in env else value
    return env


def call_wsgi(app: Callable, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the WSGI ``app`` to the end (in a pool thread): status, headers, the whole body."""
    answer: dict = {}

    def start_response(status: str, headers: list, exc_info=None):
        if exc_info and answer:
            raise exc_info[1].with_traceback(exc_info[2])
        answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    result = app(environ, start_response)
    try:
        if environ["REQUEST_METHOD"] != "HEAD":
            chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], b"".join(chunks)


class WsgiBridge:
    """Calls the Flask app for the front, in ``pool``; answers are buffered."""

    def __init__(self, app: Callable, pool: Executor, *, tls: bool) -> None:
        self.app, self.pool, self.tls = app, pool, tls

    async def __call__(self, request: web.Request, *, path: str | None = None) -> web.Response:
        body = await request.read()
        environ = environ_of(request, body, tls=self.tls, path=path)
        loop = asyncio.get_running_loop()
        status, headers, data = await loop.run_in_executor(self.pool, call_wsgi, self.app, environ)
        out = CIMultiDict((k, v) for k, v in headers if k.lower() not in _HOP)
        if request.method == "HEAD":
            length = next((v for k, v in headers if k.lower() == "content-length"), None)
            resp = web.Response(status=status, headers=out)
            if length is not None:
                resp.headers["Content-Length"] = length
            return resp
        return web.Response(status=status, headers=out, body=data)
