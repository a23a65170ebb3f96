"""``congress demo --screenshots DIR``: pictures of the main pages, in Vietnamese and English.

Plays the scripted congress (doors, roll call, a motion and a secret election, all closed), keeps the
venue running, and has headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright, as the
browser tests) log in and photograph each page in both languages: ``<page>-<lang>.png`` in DIR (the
README shows ``docs/screenshots``; ``make screenshots`` regenerates them). Staff pages at 1280 x 800,
projector screens at 1920 x 1080.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from demo.stack import ADMIN, Stack

log = logging.getLogger(__name__)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
LANGUAGES = ("vi", "en")
#: (file stem, address, projector?)
PAGES = (
    ("dashboard", "/", False),
    ("attendance", "/attendance", False),
    ("devices", "/devices", False),
    ("delegates", "/delegates", False),
    ("ballot-result", "/ballots/{election}", False),
    ("projector-roll-call", "/projector/attendance", True),
    ("projector-ballot", "/ballots/{motion}/projector", True),
)


def capture(stack: Stack, out: Path, *, ballots: dict[str, int]) -> list[Path]:
    """Photograph every page of :data:`PAGES` in every language into ``out``; return the files."""
    from playwright.sync_api import sync_playwright

    from demo.stack import DemoError

    if shutil.which(CHROMIUM) is None:
        raise DemoError("Debian chromium is missing", hint="scripts/setup-system.sh installs it")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for projector in (False, True):
                size = {"width": 1920, "height": 1080} if projector else {"width": 1280, "height": 800}
                for lang in LANGUAGES:  # the browser's own words (file pickers) in the same language
                    context = browser.new_context(ignore_https_errors=True, viewport=size, locale=lang)
                    page = context.new_page()
                    page.goto(stack.url + "/login")
                    page.fill("#name", ADMIN)
                    page.fill("#password", stack.password)
                    page.click("#login")
                    page.wait_for_url(stack.url + "/")
                    for name, path, on_projector in PAGES:
                        if on_projector != projector:
                            continue
                        page.goto(stack.url + path.format(**ballots) + f"?lang={lang}")
                        page.wait_for_load_state("networkidle")
                        page.evaluate("document.fonts.ready.then(() => true)")
                        page.wait_for_timeout(600)  # the attendance chart draws after its fetch
                        target = out / f"{name}-{lang}.png"
                        page.screenshot(path=str(target), full_page=not projector)
                        written.append(target)
                    context.close()
        finally:
            browser.close()
    return written


def run(stack: Stack, out: Path, *, timeout: float) -> dict:
    """Play the scripted congress on ``stack``, then photograph the pages; stop everything after."""
    from demo import scenario as script

    try:
        stack.start(doors=False, realtime=False)
        summary = script.run(stack, timeout=timeout)
        with stack.controller.db.session() as s:
            from sqlalchemy import select

            from controller.voting.tables import Ballot, BallotKind

            ids = {b.kind: b.id for b in s.scalars(select(Ballot).order_by(Ballot.id))}
        ballots = {"motion": ids[BallotKind.MOTION], "election": ids[BallotKind.ELECTION]}
        files = capture(stack, out, ballots=ballots)
    finally:
        stack.stop()
    return {"ok": summary["ok"], "screenshots": [str(f) for f in files]}
