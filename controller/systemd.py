"""systemd notification for ``congress controller run`` (``Type=notify`` with ``WatchdogSec``), as the
door unit does it (:func:`edge.main.run`): ``READY=1`` once the page listens, ``WATCHDOG=1`` every half
watchdog interval while the web server and the ingest threads run, ``STOPPING=1`` on the way out.
Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def watchdog_interval() -> float:
    """Seconds between watchdog pings: half of systemd's ``WATCHDOG_USEC``, at most 5 s."""
    usec = os.environ.get("WATCHDOG_USEC")
    return max(0.5, min(5.0, int(usec) / 2e6)) if usec and usec.isdigit() else 5.0


class Notifier:
    """``sd_notify`` messages to systemd (the ``sdnotify`` package)."""

    def __init__(self) -> None:
        import sdnotify

        self._notifier = sdnotify.SystemdNotifier()

    def ready(self, status: str) -> None:
        self._notifier.notify(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        """Say STOPPING=1 and close the notification socket."""
        self._notifier.notify("STOPPING=1")
        sock = getattr(self._notifier, "socket", None)
        if sock is not None:
            sock.close()

    def watch(self, stop: threading.Event, alive: Callable[[], bool]) -> None:
        """Until ``stop``: feed the watchdog while ``alive()``; a dead thread stops the feeding, so
        systemd restarts the controller (``Restart=on-failure``)."""
        interval = watchdog_interval()
        while not stop.wait(interval):
            if alive():
                self._notifier.notify("WATCHDOG=1")
            else:
                log.error("a controller thread died; not feeding the watchdog")
