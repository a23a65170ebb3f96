"""Browser-test support: Debian's Chromium driven by Playwright, shared by every area's browser tests.

tests/conftest.py registers this module as a plugin, so its fixtures are there for every test:

- ``browser`` (module scope): a headless Chromium, launched once for the test module; the test is
  skipped when Debian's chromium is not installed. Not session scope: while a sync Playwright lives it
  keeps its event loop set as the thread's running loop, so another ``sync_playwright()`` and any
  ``asyncio.run()`` in the same process refuse to start; a module's browser ends before the next
  module's tests run.
- ``browser_context``: ``browser_context(viewport=DESKTOP, **options)`` opens a new context (HTTPS
  errors ignored: the test venue's CA) and closes it at the end of the test.

Helpers: :func:`new_page` (a page that keeps its console errors in ``page.console_errors``),
:func:`log_in`, :func:`wait_true` (poll an expression over DevTools: the pages' Content-Security-Policy
forbids eval, which Playwright's ``wait_for_function`` needs for a string predicate), the axe-core run
(:func:`axe_violations`, :func:`audit_pages`), sideways scrolling (:func:`overflow_px`, :func:`fits`),
and :func:`https_web`, the ``[web]`` table of a controller served over HTTPS with the test venue's
certificate.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Screen sizes the pages are checked at.
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
FULL_HD = {"width": 1920, "height": 1080}  # the hall projector
#: Phone, tablet and desktop widths of the layout checks; :func:`at_width` gives each its height.
WIDTHS = (PHONE["width"], TABLET["width"], DESKTOP["width"])
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def at_width(width: int) -> dict:
    """A viewport ``width`` px wide: a phone's height below 400 px, a desktop's above."""
    return {"width": width, "height": PHONE["height"] if width < 400 else DESKTOP["height"]}


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser_context(browser):
    """Factory: ``browser_context(viewport=DESKTOP, **options)`` -> a new context, closed after the test."""
    made = []

    def make(viewport: dict | None = None, **options):
        options.setdefault("ignore_https_errors", True)
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def new_page(context, *, responses: bool = False, page_errors: bool = False):
    """A new page of ``context`` whose console errors collect in ``page.console_errors``; with
    ``responses`` every answer of 400 or more is collected too, with ``page_errors`` uncaught exceptions."""
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    if responses:
        page.on("response", lambda r: r.status >= 400
                and page.console_errors.append(f"{r.status} {r.url} on {page.url}"))
    if page_errors:
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


def fill_login(page, name: str, password: str) -> None:
    """Fill in and send the staff login form the page shows."""
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login")


def log_in(page, base: str, name: str, password: str, *, start: str = "/login", landing: str = "/") -> None:
    """Open ``base + start`` (the login page, or a page that sends there), log in as ``name`` and wait
    for ``base + landing``."""
    page.goto(base + start)
    fill_login(page, name, password)
    page.wait_for_url(base + landing)


def wait_true(page, expression: str, timeout_s: float = 10.0, *, arg=None) -> None:
    """Poll ``expression`` (JavaScript; it may read ``arg``) in the page until it is true. Evaluated over
    the DevTools protocol, which the page's Content-Security-Policy does not cover (Playwright's own
    string predicates are compiled inside the page, which the policy, script-src 'self' without eval,
    refuses at times)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_s
    last_error = None
    while True:
        try:
            if page.evaluate(f"(arg) => Boolean({expression})", arg):
                return
        except PlaywrightError as e:
            last_error = e  # a navigation in progress: ask again
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"not true within {timeout_s} s: {expression}{detail}")
        time.sleep(0.1)


def overflow_px(page) -> float:
    """How many px the page is wider than its window (sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def fits(page) -> bool:
    """Nothing wider than the window (a px of rounding aside)."""
    return overflow_px(page) <= 1


def require_axe() -> None:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: make setup copies it from the npm package axe-core")


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is."""
    page.evaluate(AXE.read_text(encoding="utf-8") + ";true")  # DevTools evaluation: the page's CSP stays on
    result = page.evaluate("""() => axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact,
                                 nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def audit_pages(page, base: str, paths, *, langs=("vi", "en"), label: str = "") -> tuple[dict, dict]:
    """Open each of ``paths`` in each language and run axe-core; ``(violations, overflow)``, each keyed
    ``f"{label}{lang} {path}"``: the pages with serious or critical violations, and those wider than the
    window by more than a px (how many)."""
    problems, overflow = {}, {}
    for lang in langs:
        for path in paths:
            page.goto(base + path + ("&" if "?" in path else "?") + f"lang={lang}")
            page.wait_for_load_state("networkidle")
            if found := axe_violations(page):
                problems[f"{label}{lang} {path}"] = found
            if (scroll := overflow_px(page)) > 1:
                overflow[f"{label}{lang} {path}"] = scroll
    return problems, overflow


def https_web(venue_ca, *, threads: int = 16, max_live_clients: int = 8) -> dict:
    """The ``[web]`` table of a controller on a free port of 127.0.0.1, over HTTPS with the test venue's
    ``localhost`` certificate."""
    from congress.broker import free_port

    cert_dir = venue_ca.dir / "broker" / "localhost"
    return {
        "host": "127.0.0.1",
        "port": free_port(),
        "threads": threads,
        "max_live_clients": max_live_clients,
        "tls_cert": str(cert_dir / "cert.pem"),
        "tls_key": str(cert_dir / "key.pem"),
    }
