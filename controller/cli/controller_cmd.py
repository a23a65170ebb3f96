"""``congress controller ...``: migrate the database, run the controller, manage page accounts.

* ``migrate --config FILE`` brings the database to the newest schema (safe to repeat).
* ``run --config FILE`` serves the page and runs the ingest and the device watch until SIGTERM.
* ``bench-live [--clients N --events M]`` measures the live feed on the real server.
* ``user add NAME --role R``, ``user passwd NAME``, ``user disable|enable NAME``, ``user list``,
  ``user unlock NAME [--address IP]`` (forget failed logins: the login delay ends at once).
  Passwords never come from the command line: they are read from ``$CONGRESS_NEW_PASSWORD``, from
  standard input with ``--password-stdin``, or asked for twice at the terminal.

Other areas add their own ``controller`` subcommands by listing a module in :data:`EXTENSIONS`; each
exposes ``register(actions)`` taking this group's subparsers.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys

from congress.cli import emit
from congress.errors import CongressError

#: Modules that add subcommands to ``congress controller`` (``register(actions)`` each).
EXTENSIONS: tuple[str, ...] = ("controller.cli.delegates_cmd", "controller.cli.programme_cmd",
                               "controller.cli.ballot_cmd")
ROLES = ("admin", "technician", "chair", "observer")
PASSWORD_ENV = "CONGRESS_NEW_PASSWORD"


def _config(path: str):
    from congress.config import load_config
    from congress.config.controller import ControllerConfig

    return load_config(path, ControllerConfig)


def _db(path: str):
    from controller.app import open_configured

    return open_configured(path)[1]


def _hasher(path: str):
    from controller.accounts.auth import make_hasher

    sec = _config(path).security
    return make_hasher(sec.argon2_memory_kib, sec.argon2_time_cost)


def migrate_cmd(args: argparse.Namespace) -> int:
    from controller.storage import migrate

    db = _db(args.config)
    try:
        result = migrate.upgrade(db)
        if result["from"] is not None and result["from"] != result["to"]:
            # The upgrade goes into the record; its row also seals the chain's head, which a database
            # from before the sealed head (revision 0017) lacks, so `audit verify` holds right after.
            from controller import audit

            with db.session() as s:
                audit.record(s, "controller", "storage.migrate", {"from": result["from"], "to": result["to"]})
    finally:
        db.dispose()
    emit(result, as_json=args.json, human=f"database schema: {result['from'] or 'empty'} -> {result['to']}")
    return 0


def run_cmd(args: argparse.Namespace) -> int:
    import signal
    import threading

    from controller.server import ControllerServer
    from controller.systemd import Notifier

    server = ControllerServer(_config(args.config), with_ingest=not args.no_ingest)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"controller page at {server.url}", file=sys.stderr, flush=True)
    notifier = Notifier()
    notifier.ready(f"controller page at {server.url}")
    try:
        notifier.watch(stop, server.alive)
    finally:
        notifier.stopping()
        server.stop()
    return 0


def bench_live_cmd(args: argparse.Namespace) -> int:
    from controller.bench.live import run

    r = run(clients=args.clients, events=args.events, rate=args.rate)
    human = (
        f"{r['clients']} live pages x {r['events']} events: {r['delivered']}/{r['expected']} delivered, "
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms; login {r['login_ms']} ms"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["lost"] == 0 else 1


def read_new_password(args: argparse.Namespace) -> str:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CongressError("no password on standard input")
        return line
    if not sys.stdin.isatty():
        raise CongressError(
            "no password given", hint=f"set {PASSWORD_ENV}, pipe it with --password-stdin, or use a terminal"
        )
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise CongressError("the two passwords differ")
    return first


def user_cmd(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.accounts import auth
    from controller.storage.tables import User

    db = _db(args.config)
    try:
        with db.session() as s:
            if args.user_action == "list":
                users = [
                    {"name": u.name, "role": u.role.value, "active": u.active}
                    for u in s.scalars(select(User).order_by(User.name))
                ]
                lines = [
                    f"{u['name']:<24} {u['role']:<11} {'active' if u['active'] else 'disabled'}"
                    for u in users
                ]
                emit({"users": users}, as_json=args.json, human="\n".join(lines) or "no accounts")
                return 0
            try:
                if args.user_action == "add":
                    auth.add_user(
                        s,
                        args.name,
                        args.role,
                        read_new_password(args),
                        actor="cli",
                        hasher=_hasher(args.config),
                    )
                    done = f"account {args.name} ({args.role}) added"
                elif args.user_action == "passwd":
                    user = auth.get_user(s, args.name)
                    auth.set_password(
                        s, user, read_new_password(args), actor="cli", hasher=_hasher(args.config)
                    )
                    done = f"password of {args.name} changed"
                elif args.user_action == "unlock":
                    removed = auth.unlock_user(s, auth.get_user(s, args.name), actor="cli", ip=args.address)
                    where = f" from {args.address}" if args.address else ""
                    done = f"{removed} failed logins of {args.name}{where} forgotten; no delay applies now"
                else:
                    enable = args.user_action == "enable"
                    auth.set_active(s, auth.get_user(s, args.name), enable, actor="cli")
                    done = f"account {args.name} {'enabled' if enable else 'disabled'}"
            except auth.AuthError as exc:
                raise CongressError(str(exc)) from None
    finally:
        db.dispose()
    emit({"ok": True, "user": args.name, "action": args.user_action}, as_json=args.json, human=done)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("controller", help="run the controller and manage its database and accounts")
    actions = p.add_subparsers(dest="controller_command", metavar="ACTION", required=True)

    m = actions.add_parser("migrate", help="create or upgrade the database schema")
    m.add_argument("--config", required=True, help="controller TOML configuration")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(handler=migrate_cmd)

    r = actions.add_parser("run", help="serve the page, ingest check-ins and watch the door units")
    r.add_argument("--config", required=True, help="controller TOML configuration")
    r.add_argument("--no-ingest", action="store_true", help="page only (no MQTT), e.g. a read-only replica")
    r.set_defaults(handler=run_cmd)

    b = actions.add_parser(
        "bench-live", help="measure the live feed: many pages on /events, publish to arrival"
    )
    b.add_argument("--clients", type=int, default=48, help="pages following the live feed")
    b.add_argument("--events", type=int, default=200, help="events to publish")
    b.add_argument("--rate", type=float, default=100.0, help="events per second")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(handler=bench_live_cmd)

    u = actions.add_parser("user", help="accounts of the controller page")
    ua = u.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    for name, text in (
        ("add", "add an account"),
        ("passwd", "set a new password (ends the account's sessions)"),
        ("disable", "lock an account (ends its sessions)"),
        ("enable", "unlock an account"),
        ("list", "list the accounts"),
        ("unlock", "forget an account's failed logins, so its login is not delayed"),
    ):
        a = ua.add_parser(name, help=text)
        if name != "list":
            a.add_argument("name", help="account name")
        if name == "add":
            a.add_argument("--role", required=True, choices=ROLES, help="what the account may do")
        if name == "unlock":
            a.add_argument("--address", help="only the failures from this client address")
        if name in ("add", "passwd"):
            a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        a.add_argument("--config", required=True, help="controller TOML configuration")
        a.add_argument("--json", action="store_true", help="print one JSON object")
        a.set_defaults(handler=user_cmd)

    for module in EXTENSIONS:
        importlib.import_module(module).register(actions)
