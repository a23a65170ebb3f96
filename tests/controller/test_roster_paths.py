"""Roster files from outside: a web upload reads photos only in its own folder and says the same for
every refused path; the command line still reads the operator's files; an unclosed quote is a row's
error, not a name; a keypad that was never paired cannot be bound."""

from __future__ import annotations

import io
import os
import re

from sqlalchemy import select

from congress.i18n import M_
from congress.keypads.keystore import KeyStore
from controller.delegates import roster
from controller.delegates.roster_csv import PHOTO_REFUSED, UNCLOSED_QUOTE, parse_roster
from controller.storage.tables import Delegate

REFUSED = PHOTO_REFUSED.split("%(photo)s")[1].strip()  # the part after the photo's name


def upload(client, token, text: str, name: str = "roster.csv"):
    return client.post("/delegates/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "roster": (io.BytesIO(text.encode()), name)})


def test_a_web_upload_reads_photos_only_in_its_own_folder(app, client, login_as, tmp_path):
    token = login_as("technician")
    data_dir = tmp_path / "data"
    imports = data_dir / "imports"
    imports.mkdir(parents=True, exist_ok=True)
    secret = data_dir / "audit.key"  # a secret next to the imports folder, as on a real controller
    secret.write_text("00" * 32)
    (imports / "link.jpg").symlink_to(secret)  # a link inside the folder that leads out
    (imports / "notes.jpg").write_text("not an image")  # inside, but not a photo
    paths = [str(secret), "../audit.key", "../../../../etc/passwd", "link.jpg", "missing.jpg",
             "~root/.ssh/id_rsa", "sub/../../audit.key"]
    rows = "".join(f"D{i},Person {i},North,,{p},yes,yes\n" for i, p in enumerate(paths, 1))
    r = upload(client, token, "id,name,delegation,seat,photo,consent,summoned\n" + rows)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert html.count(REFUSED.replace("'", "&#39;")) == len(paths)  # one message, whatever the reason
    assert "not found" not in html
    # notes.jpg is inside the folder: the preview accepts it, the import refuses it the same way.
    (imports / "r.csv").write_text("id,name,photo,consent\nD9,Nine,notes.jpg,yes\n")
    svc = app.extensions["congress"]
    report = roster.import_roster(svc.db, imports / "r.csv", enroller=svc.enroller, photo_root=imports)
    assert [p.message for p in report.errors] == [M_(PHOTO_REFUSED, photo="notes.jpg")]


def test_the_command_line_reads_the_operators_own_files(tmp_path):
    photos = tmp_path / "elsewhere"
    photos.mkdir()
    (photos / "ada.jpg").write_bytes(b"\xff\xd8")
    csv_file = tmp_path / "rosters" / "r.csv"
    csv_file.parent.mkdir()
    csv_file.write_text(f"id,name,photo,consent\nD1,Ada,{photos / 'ada.jpg'},yes\n"
                        "D2,Bo,../elsewhere/ada.jpg,yes\n")
    rows, problems = parse_roster(csv_file)
    assert problems == [] and [r.photos[0].name for r in rows] == ["ada.jpg", "ada.jpg"]
    rows, problems = parse_roster(csv_file, photo_root=csv_file.parent)  # as the page would
    assert rows == [] and len(problems) == 2


def test_an_unclosed_quote_is_a_rows_error_not_a_name(tmp_path, sqlite_db):
    csv_file = tmp_path / "r.csv"
    csv_file.write_text('id,name,delegation\nD1,"Nguyễn Văn An,Đoàn 1\nD2,Trần Bình,Đoàn 2\nD3,"x"y,Đoàn 3\n',
                        encoding="utf-8")
    rows, problems = parse_roster(csv_file)
    assert [r.id for r in rows] == ["D2"]
    assert [(p.row, p.message) for p in problems] == [(2, UNCLOSED_QUOTE), (4, UNCLOSED_QUOTE)]
    with sqlite_db.session() as s:
        assert not s.scalars(select(Delegate.name).where(Delegate.name.contains("\n"))).all()


def test_a_keypad_that_was_never_paired_cannot_be_bound(sqlite_db, tmp_path, password_hash):
    from controller.app import create_app
    from controller.storage.tables import Role, User
    from tests.controller.conftest import controller_config, login, page_csrf

    keys = KeyStore.generate(range(1, 7)).save(tmp_path / "keypads.json")
    os.chmod(keys, 0o600)
    with sqlite_db.session() as s:
        s.add(User(name="tech", role=Role.TECHNICIAN, password_hash=password_hash))
        s.add(Delegate(id="d1", name="Ada"))
    cfg = controller_config(tmp_path, keypads={"port": "", "keys_file": str(keys)})
    web = create_app(cfg, {"TESTING": True}, db=sqlite_db)
    c = web.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"
    assert login(c, "tech").status_code == 302
    token = page_csrf(c, "/")
    r = c.post("/keypads/bind", data={"csrf_token": token, "keypad": "999", "delegate": "d1"},
               follow_redirects=True)
    assert re.search(r"keypad 999 is not paired", r.get_data(as_text=True))
    r = c.post("/keypads/bind", data={"csrf_token": token, "keypad": "3", "delegate": "d1"},
               follow_redirects=True)
    assert "keypad 3 bound to d1" in r.get_data(as_text=True)
