"""Build the demo venue and run it: interactively until Ctrl-C, or the scripted scenario.

:func:`build` picks the delegates (real photos that pass the controller's own enrollment quality rule),
prepares the venue folder and returns a :class:`~demo.stack.Stack` that is not started yet.
:func:`serve` starts it, prints the address and the generated login, and waits for SIGINT/SIGTERM;
:func:`scenario` plays :mod:`demo.scenario` and returns its summary. Both stop every part.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from congress.logs import BoundedFormatter
from demo import photos
from demo.stack import ADMIN, Stack
from demo.venue import ATTENDANT_DOOR, ATTENDANT_MIN_SCORE, prepare

log = logging.getLogger(__name__)


def _acceptor(work: Path):
    """The controller's enrollment quality rule (one face, big enough) as a photo filter."""
    from congress.faces import FaceEngine, decode_image
    from controller.delegates.enrollment import Enroller, Quality
    from controller.delegates.face_vault import FaceVault

    engine = FaceEngine()
    enroller = Enroller(FaceVault(secrets.token_bytes(32)), work, lambda: engine)

    def accept(path: Path) -> bool:
        try:
            return enroller.assess(decode_image(path))[0] is Quality.OK
        except Exception as exc:  # an unreadable photo is simply not used
            log.warning("demo: skipping %s: %s", path, exc)
            return False

    return accept


def build(root: Path, *, delegates: int, arriving: int, keypads: int, hold: int = 4, sites: int = 0) -> Stack:
    arriving = min(arriving, delegates)
    people = photos.choose(photos.demo_candidates(), delegates, _acceptor(root), arrivals=2)
    venue = prepare(root / "venue", people, arriving=arriving, keypads=keypads, hold=hold, sites=sites)
    return Stack(venue)


@contextmanager
def workdir(path: str | None) -> Iterator[Path]:
    """``path`` (kept afterwards) or a private temporary folder removed at the end."""
    if path:
        p = Path(path)
        if p.exists() and any(p.iterdir()):
            from congress.errors import ConfigError

            raise ConfigError(f"{p} is not empty", hint="give an empty or new folder to --dir")
        p.mkdir(parents=True, exist_ok=True)
        yield p
        return
    tmp = Path(tempfile.mkdtemp(prefix="congress-demo-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """Send the log to ``path`` and keep only warnings on the terminal, so the login stays in view."""
    root = logging.getLogger()
    console = [(h, h.level) for h in root.handlers
               if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(BoundedFormatter())
    root.addHandler(to_file)
    for h, level in console:
        h.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        for h, level in console:
            h.setLevel(level)
        root.removeHandler(to_file)
        to_file.close()


def serve(stack: Stack, *, stop: threading.Event | None = None) -> int:
    """Start everything, print how to log in, run until Ctrl-C (SIGINT) or SIGTERM, stop everything.

    While it runs, the log (door decisions, ingest, keypads) goes to ``demo.log`` in the work folder and
    the terminal shows only warnings: the address and the login stay on screen.
    """
    stop = stop or threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    log_file = stack.venue.root / "demo.log"
    try:
        with _logs_to(log_file):
            _serve(stack, stop, log_file)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    leftover = [t.name for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    if leftover:
        log.warning("threads still running after stop: %s", leftover)
    return 0


def _serve(stack: Stack, stop: threading.Event, log_file: Path) -> None:
    try:
        stack.start(realtime=True, auto_vote=True)
        drafts = _draft_ballots(stack)
        candidates = _candidate_list(stack)
        v = stack.venue
        print(f"\nDigital Congress demo is running (work folder {v.root}).\n"
              f"  controller page: {stack.url}\n"
              f"  login:           {ADMIN} / {stack.password}\n"
              f"  delegates:       {len(v.people)} ({stack.enrolled.get('photos_enrolled')} faces enrolled), "
              f"{sum(len(a) for a in v.arrivals.values())} arriving at doors {', '.join(v.arrivals)}\n"
              + (f"  sites:           {', '.join(v.site_ports)}, each with its own broker bridged to the "
                 f"central one: {stack.url}/sites\n" if v.site_ports else "")
              + f"  photos:          {photos.photo_source()}\n"
              + (f"  attendant lane:  {ATTENDANT_DOOR} asks staff when a face scores below "
                 f"{ATTENDANT_MIN_SCORE}: {stack.url}/lane (check delegates in or out by hand there too)\n"
                 if ATTENDANT_DOOR in v.arrivals else "")
              + _portal_lines(stack)
              + f"  keypads:         {v.keypads} on the simulated base station {stack.keypads.port};\n"
              f"                   they vote by themselves when a ballot opens\n"
              f"  ballots:         {drafts} ready to open on the ballots page once quorum is reached\n"
              f"  candidates:      {candidates}\n"
              f"  log:             {log_file} (the terminal shows only warnings)\n"
              f"Press Ctrl-C to stop.\n", flush=True)
        stop.wait()
        print("stopping...", flush=True)
    finally:
        stack.stop()


def portal_codes(stack: Stack, count: int = 3) -> list[dict]:
    """Sign-in codes of the first ``count`` demo delegates (each chooses a PIN at the first sign-in)."""
    auth = stack.controller.services.portal.auth
    with stack.controller.db.session() as s:
        from sqlalchemy import select

        from controller.storage.tables import Delegate

        people = s.execute(select(Delegate.id, Delegate.name).order_by(Delegate.id).limit(count)).all()
    return [{"delegate_id": d.id, "name": d.name, "code": auth.code_for(d.id)} for d in people]


def portal_url(stack: Stack) -> str:
    """The delegates' app: the tablet port when the front runs, else ``/p/`` on the staff port."""
    front = stack.controller.front if stack.controller else None
    return f"{front.url if front is not None else stack.url}/p/"


def _portal_lines(stack: Stack) -> str:
    codes = portal_codes(stack)
    lines = [f"  delegates' app:  {portal_url(stack)} (a badge QR code or its sign-in code, then a PIN)\n"]
    lines += [f"                   {c['code']}  {c['name']} ({c['delegate_id']})\n" for c in codes]
    return "".join(lines)


def _draft_ballots(stack: Stack) -> str:
    """A motion and a secret election as drafts, for the chair to open on the page."""
    from controller.voting.tables import BallotKind
    from demo.scenario import CANDIDATES, ELECTION, MOTION

    stack.ballots.create(MOTION, BallotKind.MOTION, actor="demo")
    stack.ballots.create(ELECTION, BallotKind.ELECTION, options=CANDIDATES, seats=2, secret=True,
                         actor="demo")
    return f"'{MOTION}' and '{ELECTION}'"


def _candidate_list(stack: Stack) -> str:
    """A candidate list open for nominations: the first two delegates of the portal lines stand, the
    third is nominated and answers in their app; the chair puts it to the congress on the page."""
    lists = stack.controller.services.candidates
    name = "Ban Chấp hành"
    people = portal_codes(stack)
    for i, p in enumerate(people):
        cid = lists.nominate(name, p["name"], actor="user:demo", delegate_id=p["delegate_id"],
                             biography=f"{p['name']}: đại biểu {p['delegate_id']}, 20 năm công tác.")
        if i < 2:
            lists.accept(cid, actor="user:demo")
    waiting = people[2]["name"] if len(people) > 2 else ""
    return (f"'{name}' at {stack.url}/candidates (open for nominations in the delegates' app"
            + (f"; {waiting} answers there" if waiting else "") + ")")


def scenario(stack: Stack, *, timeout: float) -> dict:
    from demo import scenario as script

    try:
        stack.start(doors=False, realtime=False)
        summary = script.run(stack, timeout=timeout)
        summary["portal"] = {"url": portal_url(stack), "codes": portal_codes(stack)}
    finally:
        stack.stop()
    summary["threads_left"] = sorted(t.name for t in threading.enumerate()
                                     if t is not threading.current_thread() and t.is_alive()
                                     and not t.name.startswith(("ThreadPoolExecutor", "pydevd")))
    summary["pid"] = os.getpid()
    return summary
