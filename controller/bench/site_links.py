"""The sites bench's link-fault proxies in a process of their own (:class:`LinkFaultsProcess`).

:class:`congress.linkfault.LinkFaults` carries every byte between the site brokers' bridges and the
central broker through one asyncio loop. In the bench's own process that loop would share one
interpreter lock with the bench's pacing and polling, and on a busy machine a command to it (resume a
stalled link) could wait longer than the links themselves; so the bench runs the proxies in a child
process (``spawn``) and drives them through a pipe. The methods are those of ``LinkFaults`` that the
bench and :class:`congress.bridge.BridgedVenue` use: ``add`` (returns an object with the proxy's
``port``), ``reset``, ``stall``, ``refuse``, ``resume``, ``close``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from dataclasses import dataclass

from congress.errors import CongressError


@dataclass(frozen=True)
class ProxyPort:
    """Where a proxy listens (what ``BridgedVenue`` needs of ``LinkFaults.add``)."""

    name: str
    port: int


def _serve(conn) -> None:
    from congress.linkfault import LinkFaults

    # On a machine shared by many, the loop may wait its turn for a long time: control calls wait too.
    with LinkFaults(call_timeout_s=300.0) as faults:
        try:
            while True:
                op, *args = conn.recv()
                if op == "close":
                    break
                try:
                    out = faults.add(*args).port if op == "add" else getattr(faults, op)(*args)
                    conn.send(("ok", out))
                except Exception as exc:  # the bench shows it; the proxies keep running
                    conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except (EOFError, KeyboardInterrupt):
            pass
    conn.close()


class LinkFaultsProcess:
    """``LinkFaults`` in a child process; use as a context manager."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(theirs,), name="bench-linkfault", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> LinkFaultsProcess:
        self._proc.start()
        return self

    def __enter__(self) -> LinkFaultsProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, *msg):
        with self._lock:
            try:
                self._conn.send(msg)
                status, out = self._conn.recv()
            except (EOFError, OSError):
                ended = self._proc.exitcode
                raise CongressError(f"the link-fault process ended (exit code {ended})") from None
        if status != "ok":
            raise CongressError(f"link fault {msg[0]} {msg[1:]}: {out}")
        return out

    def add(self, name: str, target_host: str, target_port: int) -> ProxyPort:
        return ProxyPort(name, self._call("add", name, target_host, target_port))

    def reset(self, name: str) -> int:
        return self._call("reset", name)

    def stall(self, name: str) -> None:
        self._call("stall", name)

    def refuse(self, name: str) -> None:
        self._call("refuse", name)

    def resume(self, name: str) -> None:
        self._call("resume", name)

    def close(self) -> None:
        if self._proc.pid is None:
            return
        with self._lock, contextlib.suppress(OSError):  # it has ended already
            self._conn.send(("close",))
        self._proc.join(15)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
