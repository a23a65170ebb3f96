"""Wiring of the check-in ingest from a controller configuration, and an ingest-only process.

:func:`build_ingest` is what the controller's ``run`` command calls: it turns ``[venue]``, ``[broker]``
and the venue CA directory (unit signing keys, revocations, ``controller-signing.key``) into an
:class:`controller.checkins.ingest.Ingest`. ``python -m controller.checkins.service --config FILE [--ca-dir
DIR]``
runs the ingest alone (no web page) until SIGTERM/SIGINT; the check-in bench starts it this way so it
can kill -9 a real controller process mid-stream. It prints ``ready`` on stdout once subscribed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from congress import pki
from controller.checkins.ingest import BrokerTarget, Ingest
from controller.checkins.unit_registry import UnitRegistry
from controller.storage.database import Database

log = logging.getLogger(__name__)


def build_ingest(
    cfg,
    db: Database,
    *,
    ca_dir: Path,
    client_id: str = "controller",
    on_status: Callable | None = None,
    on_live: Callable | None = None,
    verify_workers: int | None = None,
    **kwargs,
) -> Ingest:
    """An :class:`Ingest` for a :class:`congress.config.controller.ControllerConfig` (not started).

    ``verify_workers`` processes check signatures (default: one per CPU when there are several; the
    processes start with the ingest).
    """
    ca_dir = Path(ca_dir)
    if verify_workers is None:
        cpus = os.cpu_count() or 1
        verify_workers = cpus if cpus > 1 else 0
    return Ingest(
        db,
        UnitRegistry(ca_dir),
        venue_id=cfg.venue.id,
        broker=BrokerTarget.from_section(cfg.broker),
        signing_key=pki.load_signing_key(ca_dir / "controller-signing.key"),
        client_id=client_id,
        on_status=on_status,
        on_live=on_live,
        verify_workers=verify_workers,
        **kwargs,
    )


def main(argv: list[str] | None = None) -> int:
    from congress.config import load_config
    from congress.config.controller import ControllerConfig
    from controller import audit
    from controller.storage import migrate

    p = argparse.ArgumentParser(prog="python -m controller.checkins.service", description=__doc__)
    p.add_argument("--config", required=True, help="controller TOML configuration")
    p.add_argument("--ca-dir", type=Path, help="venue CA directory (default: ca_dir of the configuration)")
    p.add_argument("--client-id", default="controller", help="MQTT client id (durable session name)")
    p.add_argument("--batch-max", type=int, default=1000, help="messages per transaction at most")
    p.add_argument("--verify-workers", type=int, help="signature-checking processes (default: one per CPU)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(args.config, ControllerConfig)
    db = Database(cfg.database.url, info={audit.INFO_KEY: audit.load_key(cfg.data_dir)})
    migrate.upgrade(db)
    ingest = build_ingest(cfg, db, ca_dir=args.ca_dir or cfg.ca_dir, client_id=args.client_id,
                          batch_max=args.batch_max, verify_workers=args.verify_workers)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ingest.start()
    print("ready", flush=True)
    stop.wait()
    ingest.stop()
    db.dispose()
    log.info("ingest stopped: %s", ingest.stats)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
