"""Programme and document commands under ``congress controller`` (registered in ``EXTENSIONS``):

* ``programme import FILE --config CFG [--json]`` — check and merge a TOML/CSV/XLSX programme; every
  problem is listed with its row, nothing is stored when there is one (exit status 1);
* ``programme show --config CFG [--json]`` — days, sessions and items, and what is on the agenda now;
* ``documents add FILE --title T [--item NUMBER] [--level L] [--group G] [--note N] --config CFG``
  (``--level confidential`` takes no file: write ``-`` for FILE);
* ``documents list --config CFG [--json]``;
* ``documents group NAME [--title T] [--members ID ...] --config CFG`` — create a named group or set its
  members (who reads a ``--level group`` document); ``documents groups`` lists them;
* ``documents withdraw REF --config CFG``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from congress.cli import emit
from controller.cli import script_options

#: The values of controller.documents.access.Level and .tables.DocumentKind (kept import-free here,
#: so building the parser loads no database code; a test holds them equal).
LEVELS = ("public", "delegates", "group", "confidential")
KINDS = ("draft", "report", "resolution", "speech", "other")


def _open(path: str):
    from controller.app import open_configured

    return open_configured(path)


def _read(path: str) -> bytes:
    """The bytes of the file ``path``, or the reason it cannot be read in a sentence (not a traceback)."""
    from congress.errors import CongressError

    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CongressError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CongressError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise CongressError(f"{path} cannot be read ({exc.strerror or exc})") from None


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def programme_import(args: argparse.Namespace) -> int:
    from controller.programme.agenda import Programme
    from controller.programme.importer import ProgrammeImportError, import_file

    data = _read(args.file)
    cfg, db = _open(args.config)
    try:
        result = import_file(
            Programme(db),
            data,
            Path(args.file).suffix,
            zone=cfg.venue.timezone,
            actor=args.actor,
        )
    except ProgrammeImportError as exc:
        emit(
            {"imported": False, "problems": [str(p) for p in exc.problems]},
            as_json=args.json,
            human="\n".join([exc.message.split(":")[0] + ":"] + [f"  {p}" for p in exc.problems]),
        )
        return 1
    finally:
        db.dispose()
    emit(
        {"imported": True, **result},
        as_json=args.json,
        human=f"imported {_count(result['items'], 'item', 'items')} in "
        f"{_count(result['sessions'], 'session', 'sessions')} over {_count(result['days'], 'day', 'days')}",
    )
    return 0


def programme_show(args: argparse.Namespace) -> int:
    from controller.programme.agenda import Programme

    _, db = _open(args.config)
    try:
        p = Programme(db)
        outline, now = p.outline(), p.now()
    finally:
        db.dispose()
    lines = []
    for day in outline:
        lines.append(f"{day['date']}  {day['title']}")
        for sess in day["sessions"]:
            lines.append(f"  {sess['code']}  {sess['title']}  ({sess['kind']}, {sess['status']})")
            lines += [f"    {i['number']:>5}  {i['title']}" for i in sess["items"]]
    lines.append(
        f"now on the agenda: {now['item']['number'] + '. ' + now['item']['title'] if now['item'] else '-'}"
    )
    emit({"days": outline, "now": now}, as_json=args.json, human="\n".join(lines))
    return 0


def documents_add(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.documents.access import Level
    from controller.documents.service import build_library
    from controller.documents.tables import DocumentKind
    from controller.programme.tables import AgendaItem

    if args.level == "group" and not args.group:
        from congress.errors import CongressError

        raise CongressError("--level group needs --group NAME (documents groups lists them)")
    data = None if args.file == "-" else _read(args.file)
    cfg, db = _open(args.config)
    try:
        item_ref = None
        if args.item:
            with db.session() as s:
                item_ref = s.scalar(select(AgendaItem.ref).where(AgendaItem.number == args.item))
            if item_ref is None:
                from congress.errors import CongressError

                raise CongressError(f"there is no agenda item number {args.item}")
        ref = build_library(cfg, db).add(
            args.title,
            kind=DocumentKind(args.kind),
            level=Level(args.level),
            group=args.group,
            item_ref=item_ref,
            data=data,
            filename="" if args.file == "-" else Path(args.file).name,
            note=args.note,
            actor=args.actor,
        )
    finally:
        db.dispose()
    emit({"ref": ref}, as_json=args.json, human=f"added document {ref}")
    return 0


def documents_list(args: argparse.Namespace) -> int:
    from controller.documents.access import Reader, ReaderKind
    from controller.documents.service import build_library

    cfg, db = _open(args.config)
    try:
        lib = build_library(cfg, db)
        docs = lib.documents(Reader(ReaderKind.STAFF, "cli", "cli", secretariat=True))
        rows = [
            {
                "ref": d.ref,
                "title": d.title,
                "item": d.item_number,
                "level": d.level.value,
                "group": d.group,
                "withdrawn": d.withdrawn,
                "version": d.current.number if d.current else None,
                "pages": d.current.pages if d.current else 0,
                "readers": lib.stats(d.ref)["readers"],
            }
            for d in docs
        ]
    finally:
        db.dispose()
    human = (
        "\n".join(
            f"{r['ref']}  {r['item'] or '-':>5}  v{r['version']}  {r['level']:<12} "
            f"{r['readers']:>5} readers  {r['title']}{'  (withdrawn)' if r['withdrawn'] else ''}"
            for r in rows
        )
        or "no documents"
    )
    emit({"documents": rows}, as_json=args.json, human=human)
    return 0


def documents_group(args: argparse.Namespace) -> int:
    from controller.documents.service import build_library

    cfg, db = _open(args.config)
    try:
        lib = build_library(cfg, db)
        lib.set_group(args.name, args.title or args.name, args.members, actor=args.actor)
        groups = {g["name"]: g for g in lib.groups()}
    finally:
        db.dispose()
    group = groups[args.name]
    members = _count(len(group["members"]), "member", "members")
    emit(group, as_json=args.json, human=f"group {group['name']} ({group['title']}): {members}")
    return 0


def documents_groups(args: argparse.Namespace) -> int:
    from controller.documents.service import build_library

    cfg, db = _open(args.config)
    try:
        groups = build_library(cfg, db).groups()
    finally:
        db.dispose()
    human = "\n".join(
        f"{g['name']:<16} {len(g['members']):>4} members  {g['title']}" for g in groups
    ) or "no groups"
    emit({"groups": groups}, as_json=args.json, human=human)
    return 0


def documents_withdraw(args: argparse.Namespace) -> int:
    from controller.documents.service import build_library

    cfg, db = _open(args.config)
    try:
        build_library(cfg, db).withdraw(args.ref, actor=args.actor)
    finally:
        db.dispose()
    emit({"withdrawn": args.ref}, as_json=args.json, human=f"withdrew {args.ref}")
    return 0


def register(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser("programme", help="the congress programme (days, sessions, agenda items)")
    pa = p.add_subparsers(dest="programme_command", metavar="ACTION", required=True)
    i = pa.add_parser("import", help="check and merge a programme file (TOML, CSV or XLSX)")
    i.add_argument("file")
    script_options(i)
    i.set_defaults(handler=programme_import)
    s = pa.add_parser("show", help="the programme and what is on the agenda now")
    script_options(s)
    s.set_defaults(handler=programme_show)

    d = actions.add_parser("documents", help="congress documents")
    da = d.add_subparsers(dest="documents_command", metavar="ACTION", required=True)
    a = da.add_parser("add", help="add a document (a checked PDF; '-' for a paper-only one)")
    a.add_argument("file", help="PDF file, or - for --level confidential")
    a.add_argument("--title", required=True)
    a.add_argument("--item", help="agenda item number")
    a.add_argument("--kind", default="other", choices=KINDS)
    a.add_argument("--level", default="delegates", choices=LEVELS)
    a.add_argument("--group", help="group name for --level group (see documents groups)")
    a.add_argument("--note", default="", help="change note")
    script_options(a)
    a.set_defaults(handler=documents_add)
    gr = da.add_parser("group", help="create a named group or set its members (who reads --level group)")
    gr.add_argument("name", help="lower-case letters, digits, - and _ (presidium, committee-1)")
    gr.add_argument("--title", default="", help="the group's name as people read it")
    gr.add_argument("--members", nargs="*", default=[], metavar="DELEGATE_ID",
                    help="its delegates (replaces the members it had)")
    script_options(gr)
    gr.set_defaults(handler=documents_group)
    gs = da.add_parser("groups", help="the named groups with their members")
    script_options(gs)
    gs.set_defaults(handler=documents_groups)
    ls = da.add_parser("list", help="every document with its version and readers")
    script_options(ls)
    ls.set_defaults(handler=documents_list)
    w = da.add_parser("withdraw", help="withdraw a document (nobody receives it any more)")
    w.add_argument("ref")
    script_options(w)
    w.set_defaults(handler=documents_withdraw)
