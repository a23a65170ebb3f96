"""Wiring of the check-in ingest from a controller configuration, and an ingest-only process.

:func:`build_ingest` is what ``create_app`` calls: it turns the venue CA directory (unit signing keys,
revocations) into an :class:`controller.checkins.ingest.Ingest` on the controller's one broker
connection (:func:`build_link`: ``[venue]``, ``[broker]`` and ``controller-signing.key``).
``python -m controller.checkins.service --config FILE [--ca-dir DIR]`` runs the ingest alone (no web
page) until SIGTERM/SIGINT; the check-in bench starts it this way so it can kill -9 a real controller
process mid-stream. It prints ``ready`` on stdout once subscribed.
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

from congress import logs, pki
from controller.checkins.ingest import Ingest
from controller.checkins.unit_registry import UnitRegistry
from controller.link import BrokerTarget, ControllerLink
from controller.storage.database import Database

log = logging.getLogger(__name__)


def build_link(cfg, *, ca_dir: Path | None = None, client_id: str = "controller",
               registry: UnitRegistry | None = None) -> ControllerLink:
    """The controller's one broker connection for a configuration (not started); with ``registry``
    messages to a unit behind a satellite site travel that site's bridge."""
    ca_dir = Path(ca_dir or cfg.ca_dir)
    return ControllerLink(
        venue_id=cfg.venue.id,
        broker=BrokerTarget.from_section(cfg.broker),
        signing_key=pki.load_signing_key(ca_dir / "controller-signing.key"),
        client_id=client_id,
        route=registry.site_of if registry is not None else None,
    )


def build_ingest(
    db: Database,
    link: ControllerLink,
    *,
    ca_dir: Path,
    on_status: Callable | None = None,
    on_live: Callable | None = None,
    verify_workers: int | None = None,
    registry: UnitRegistry | None = None,
    **kwargs,
) -> Ingest:
    """An :class:`Ingest` on ``link`` trusting the units of ``ca_dir`` (not started).

    ``verify_workers`` processes check signatures (default: one per CPU when there are several; the
    processes start with the ingest).
    """
    if verify_workers is None:
        cpus = os.cpu_count() or 1
        verify_workers = cpus if cpus > 1 else 0
    return Ingest(db, registry or UnitRegistry(Path(ca_dir)), link=link, on_status=on_status,
                  on_live=on_live, verify_workers=verify_workers, **kwargs)


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
    logs.configure(logging.INFO)
    cfg = load_config(args.config, ControllerConfig)
    db = Database(cfg.database.url, info=audit.session_info(cfg.data_dir), hide_parameters=True)
    migrate.upgrade(db)
    ca_dir = args.ca_dir or cfg.ca_dir
    registry = UnitRegistry(Path(ca_dir))
    link = build_link(cfg, ca_dir=ca_dir, client_id=args.client_id, registry=registry)
    ingest = build_ingest(db, link, ca_dir=ca_dir, batch_max=args.batch_max,
                          verify_workers=args.verify_workers, registry=registry)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ingest.start()
    link.start()
    print("ready", flush=True)
    stop.wait()
    ingest.stop()
    link.stop()
    db.dispose()
    log.info("ingest stopped: %s", ingest.stats)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
