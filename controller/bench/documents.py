"""``congress bench documents``: 2,000 tablets fetch their watermarked document set over TLS at once.

What runs, all on loopback:

1. a scratch venue: CA, server certificate for 127.0.0.1, controller signing key, a migrated SQLite
   database with ``--delegates`` delegates, and ``--documents`` PDFs of ``--set-mb`` MB in all
   (Vietnamese text pages, each with a photograph-like image), added through the library (checked,
   base prepared);
2. **first-time watermarking**: every delegate's copy of every document made once, timed
   (``watermark_ms_per_page`` = that time ÷ pages delivered; ``watermark_ms_per_copy`` per copy,
   and the same for a 2-page and a 200-page document to show how it scales);
3. the **real controller server** (:class:`controller.server.ControllerServer`) with its tablet
   front (:mod:`controller.front`: the delegates' port on an event loop, TLS, the access check, the
   open log and the audit trail on every open, the shared base sent in bounded blocks) serving
   ``/d/<ref>/file`` to delegates presenting their signed badge tokens (``--via page`` fetches from
   the staff page's cheroot port instead, as before the front existed);
4. Debian's **nginx** serving the unwatermarked originals over TLS with the same certificate;
5. the tablets: :mod:`controller.documents.loadgen` in ``--client-procs`` separate processes, every
   tablet its own TLS connection, all started at once, first against nginx, then the controller.

JSON: ``delegates``, ``completed``, ``failed``, ``p50_s``, ``p99_s`` (per-tablet time for its whole
set), ``bytes``, ``watermark_ms_per_page``, ``rss_mb`` (controller process peak), ``ratio`` (our
throughput ÷ nginx's), plus the static run and the load generator's own CPU use under ``static`` and
``client``; ``front_peak_buffered`` is the most one tablet's connection held waiting in the front
(:class:`controller.front.files.SendStats`), ``front_waits`` how often a copy waited for its tablet.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _rss_mb() -> float:
    return _status("VmRSS") / 1024


class _PeakRss(threading.Thread):
    """Peak RSS and thread count of this (the controller's) process while it serves."""

    def __init__(self) -> None:
        super().__init__(name="bench-rss", daemon=True)
        self.peak = 0.0
        self.threads = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.peak = max(self.peak, _rss_mb())
            self.threads = max(self.threads, _status("Threads"))


def _run_clients(tablets: list[list[dict]], ca: Path, procs: int, work: Path, name: str) -> dict:
    """Run the tablets in ``procs`` load-generator processes started together; merge their results."""
    jobs, started = [], []
    for i in range(procs):
        job = work / f"{name}-{i}.json"
        job.write_text(json.dumps({"ca": str(ca), "tablets": tablets[i::procs], "timeout": 900}))
        jobs.append(job)
    for job in jobs:
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "controller.documents.loadgen", str(job)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for p in started:
        out, err = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"load generator failed: {err[-800:]}")
        results.append(json.loads(out))
    times = sorted(t for r in results for t in r["times"])

    def pct(q: float) -> float:
        return round(times[min(len(times) - 1, round(q * (len(times) - 1)))], 3) if times else 0.0

    seconds = max(r["seconds"] for r in results)
    total = sum(r["bytes"] for r in results)
    return {
        "tablets": sum(r["tablets"] for r in results),
        "completed": sum(r["completed"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "bytes": total,
        "seconds": seconds,
        "mb_per_s": round(total / 1e6 / seconds, 1) if seconds else 0.0,
        "p50_s": pct(0.5),
        "p99_s": pct(0.99),
        "client_cpu_s": round(sum(r["client_cpu_s"] for r in results), 1),
        "errors": [e for r in results for e in r["errors"]][:5],
    }


def _tail_cost(pages: int, holders: int = 50) -> float:
    """ms per copy for a ``pages``-page document (base prepared once, ``holders`` tails made)."""
    from controller.documents import watermark
    from controller.documents.samples import text_pdf

    _, base = watermark.prepare_base(text_pdf(pages))
    t0 = time.perf_counter()
    for n in range(holders):
        watermark.make_tail(base, watermark.Holder(f"Đại biểu {n}", n, f"D-{n:04d}", "Bản cá nhân"), "-")
    return (time.perf_counter() - t0) * 1000 / holders


def run(
    *,
    delegates: int = 2000,
    documents: int = 4,
    set_mb: float = 20.0,
    threads: int = 64,
    client_procs: int = 2,
    workdir: Path | None = None,
    via: str = "front",
) -> dict:
    from sqlalchemy import insert

    from congress import badge_token, pki
    from congress.config import parse_config
    from congress.config.controller import ControllerConfig
    from controller.documents.access import Reader, ReaderKind
    from controller.documents.samples import text_pdf
    from controller.documents.static_server import StaticServer, _free_port
    from controller.server import ControllerServer
    from controller.storage import migrate
    from controller.storage.tables import Delegate

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.TemporaryDirectory(prefix="bench-documents-") if workdir is None else None
    work = Path(tmp.name if tmp else workdir)
    work.mkdir(parents=True, exist_ok=True)
    ca_dir = work / "ca"
    pki.init_ca(ca_dir, "bench-venue")
    cert, key = pki.issue_broker(ca_dir, "127.0.0.1")
    cfg = parse_config(
        {
            "venue": {"id": "bench-venue", "name": "Đại hội (benchmark)"},
            "broker": {"ca_file": str(ca_dir / "ca.pem"), "cert_file": str(cert), "key_file": str(key)},
            "database": {"url": f"sqlite:///{work / 'controller.db'}"},
            "web": {
                "host": "127.0.0.1",
                "port": _free_port(),
                "tls_cert": str(cert),
                "tls_key": str(key),
                "threads": threads,
                "max_live_clients": 4,
                "max_pending_per_address": 4096,  # every tablet comes from 127.0.0.1 here
            },
            # the tablet front: every tablet comes from 127.0.0.1, so the per-address cap is lifted;
            # 2,000 handshakes at the same instant queue on one loop, hence the longer deadline
            "portal": {
                "enabled": via == "front",
                "host": "127.0.0.1",
                "port": _free_port(),
                "per_address": 100_000,
                "handshake_s": 60,
                "header_s": 60,
            },
            "data_dir": str(work / "data"),
            "ca_dir": str(ca_dir),
        },
        ControllerConfig,
    )
    from controller.app import open_database

    db = open_database(cfg)
    migrate.upgrade(db)
    ids = [f"D-{i:04d}" for i in range(1, delegates + 1)]
    with db.session() as s:
        s.execute(
            insert(Delegate),
            [
                {
                    "id": d,
                    "name": f"Nguyễn Văn Đại Biểu {i}",
                    "delegation": "Đoàn 1",
                    "consent": False,
                    "summoned": True,
                }
                for i, d in enumerate(ids, 1)
            ],
        )
    db.dispose()

    server = ControllerServer(cfg, with_ingest=False)
    library = server.app.extensions["congress"].documents
    per_doc = set_mb * 1e6 / documents
    probe = len(text_pdf(10, image_kb=195)) / 10  # bytes per page of the sample documents
    pages = max(2, round(per_doc / probe))
    static_root = work / "static"
    static_root.mkdir()
    refs, total_pages = [], 0
    for n in range(documents):
        pdf = text_pdf(pages, title=f"Tài liệu {n + 1}", image_kb=195)
        ref = library.add(f"Tài liệu {n + 1}", data=pdf, filename=f"tai-lieu-{n + 1}.pdf", actor="bench")
        (static_root / f"{ref}.pdf").write_bytes(pdf)
        refs.append(ref)
        total_pages += pages
    set_bytes = sum((static_root / f"{r}.pdf").stat().st_size for r in refs)

    # First-time watermarking: every delegate's copy of every document, timed.
    readers = [Reader(ReaderKind.DELEGATE, d, f"Nguyễn Văn Đại Biểu {i}") for i, d in enumerate(ids, 1)]
    t0 = time.perf_counter()
    for reader in readers:
        for ref in refs:
            library.copy(reader, ref, record=False)
    first_ms = (time.perf_counter() - t0) * 1000
    copies = delegates * documents
    cache_bytes = sum(f.stat().st_size for f in (work / "data" / "documents" / "copies").rglob("*.tail"))

    key_obj = pki.load_signing_key(ca_dir / "controller-signing.key")
    tokens = {d: badge_token.issue(key_obj, "bench-venue", d) for d in ids}
    static = StaticServer(static_root, cert, key, work / "nginx").start()
    try:
        static_tablets = [[{"url": f"{static.url}/{r}.pdf"} for r in refs] for _ in ids]
        static_result = _run_clients(static_tablets, ca_dir / "ca.pem", client_procs, work, "static")
        static_rss = static.rss_mb()
    finally:
        static.stop()

    server.start()
    rss = _PeakRss()
    rss.start()
    try:
        base = server.front.url if via == "front" else server.url
        ours_tablets = [
            [{"url": f"{base}/d/{r}/file", "headers": {"Authorization": f"Badge {tokens[d]}"}} for r in refs]
            for d in ids
        ]
        ours = _run_clients(ours_tablets, ca_dir / "ca.pem", client_procs, work, "ours")
        sent = server.front.send_stats() if server.front is not None else None
    finally:
        rss.stop.set()
        rss.join()
        server.stop()
    with open_database(cfg).session() as s:
        from sqlalchemy import func, select

        from controller.documents.tables import DocumentOpen

        opens = s.scalar(select(func.count()).select_from(DocumentOpen))
    result = {
        "delegates": delegates,
        "documents": documents,
        "set_bytes": set_bytes,
        "pages_per_set": total_pages,
        "completed": ours["completed"],
        "failed": ours["failed"],
        "p50_s": ours["p50_s"],
        "p99_s": ours["p99_s"],
        "bytes": ours["bytes"],
        "seconds": ours["seconds"],
        "mb_per_s": ours["mb_per_s"],
        "watermark_ms_per_page": round(first_ms / (copies * pages), 4),
        "watermark_ms_per_copy": round(first_ms / copies, 2),
        "watermark_first_s": round(first_ms / 1000, 1),
        "watermark_ms_per_copy_2_pages": round(_tail_cost(2), 2),
        "watermark_ms_per_copy_200_pages": round(_tail_cost(200), 2),
        "cache_mb": round(cache_bytes / 2**20, 1),
        "rss_mb": round(rss.peak, 1),
        "ratio": round(ours["mb_per_s"] / static_result["mb_per_s"], 3) if static_result["mb_per_s"] else 0.0,
        "opens_recorded": opens,
        "served_by": via,
        "threads": rss.threads,
        "page_threads": threads,
        # the most bytes one tablet's connection held for it in the front, and how often a copy waited
        "front_peak_buffered": sent.peak_buffered if sent else None,
        "front_waits": sent.waits if sent else None,
        "static": {
            k: static_result[k]
            for k in ("completed", "failed", "p50_s", "p99_s", "bytes", "seconds", "mb_per_s")
        }
        | {"rss_mb": round(static_rss, 1)},
        "client": {
            "procs": client_procs,
            "cpu_s_ours": ours["client_cpu_s"],
            "cpu_s_static": static_result["client_cpu_s"],
        },
        "errors": ours["errors"] + static_result["errors"],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_before": os.getloadavg()[0],
    }
    if tmp:
        tmp.cleanup()
    return result
