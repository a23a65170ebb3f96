"""Hostile numbers never give a 500: the reported cases, and a small fuzz over the whole URL map.

Every route of the app is requested with each hostile value in every parameter name the views read
(found by scanning their source), as a query, as a form and as a JSON body, and with path ids past
64 bits; the answer may be anything but a server error. ``TESTING`` propagates exceptions, so a crash
fails the test with its traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.routing.converters import NumberConverter

from controller.voting.tables import BallotKind

WEB = Path(__file__).resolve().parents[2] / "controller" / "web"
HOSTILE = ["99999999999999999999999", "-99999999999999999999999", "nan", "inf", "-inf", "1e400", "²",
           "0x1f", "1_000", "-0", "9" * 400]
#: Streams never end; the login/logout pair would end the fuzzing session.
SKIP = {"static", "main.events", "auth.logout", "auth.login"}


def _param_names() -> list[str]:
    found: set[str] = set()
    for path in WEB.rglob("*.py"):
        source = path.read_text()
        found |= set(re.findall(r"""(?:args|form|values|f|body)\.get\(\s*["']([a-z_]+)["']""", source))
        found |= set(re.findall(r"""(?:int_param|float_param|_field)\(\s*["']([a-z_]+)["']""", source))
    return sorted(found - {"csrf_token"})


def test_the_reported_inputs_answer_400_with_a_message(app, client, login_as):
    token = login_as("admin")
    r = client.get("/audit?before=99999999999999999999999", headers={"Accept": "text/html"})
    assert r.status_code == 400 and "before must be a number" in r.get_data(as_text=True)
    svc = app.extensions["congress"]
    bid = svc.ballots.create("Motion one", BallotKind.MOTION, actor="test")
    for bad in ("nan", "inf", "1e400", "-inf"):
        r = client.post(f"/ballots/{bid}/open", data={"csrf_token": token, "minutes": bad,
                                                      "without_quorum": "on"})
        assert r.status_code == 400, bad
        assert "the voting time is a number of minutes" in r.get_data(as_text=True)
    assert client.post(f"/ballots/{bid}/open", data={"csrf_token": token, "minutes": "5",
                                                     "without_quorum": "on"}).status_code == 302
    for bad in ("nan", "inf", "1e400", "99999999999999999999999"):
        r = client.post(f"/ballots/{bid}/extend", data={"csrf_token": token, "minutes": bad})
        assert r.status_code == 400, bad
    r = client.post(f"/ballots/{bid}/extend", data={"csrf_token": token, "minutes": "2"})
    assert r.status_code == 302
    assert client.get(f"/ballots/{2**70}").status_code == 404
    assert client.get("/api/attendance/timeline?bucket=²").status_code == 400


def test_page_numbers_keep_working(client, login_as):
    login_as("admin")
    assert client.get("/audit?before=5").status_code == 200
    assert client.get("/delegates?page=3").status_code == 200
    assert client.get("/api/attendance/timeline?bucket=5").get_json()["bucket_s"] == 10


@pytest.mark.parametrize("value", HOSTILE)
def test_no_route_answers_500_to_a_hostile_number(app, client, login_as, value):
    token = login_as("admin")
    names = _param_names()
    assert {"before", "minutes", "seats", "page", "bucket", "revision", "keypad"} <= set(names)
    params = dict.fromkeys(names, value)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        for path_value in ("1", str(2**70)):
            args = {a: path_value if isinstance(rule._converters[a], NumberConverter) else "1"
                    for a in rule.arguments}
            path = rule.rule
            for a, v in args.items():
                path = re.sub(rf"<(?:[a-z]+:)?{a}>", v, path)
            if "GET" in rule.methods:
                _answer(client.get(path, query_string=params), path, value)
            if "POST" in rule.methods:
                _answer(client.post(path, data={**params, "csrf_token": token}), path, value)
                body = "{" + ",".join(f'"{n}": {value if _json_number(value) else repr(value)!s}'
                                      for n in names).replace("'", '"') + "}"
                _answer(client.post(path, data=body, content_type="application/json",
                                    headers={"X-CSRF-Token": token}), path, value, "json")
                _answer(client.post(path, data="[1]", content_type="application/json",
                                    headers={"X-CSRF-Token": token}), path, "json list")


def _answer(response, *what) -> None:
    try:
        assert response.status_code < 500, what
    finally:
        response.close()  # file responses hold their file open until closed


def _json_number(value: str) -> bool:
    """Values Python's JSON reader takes as a number (1e400 becomes inf, a long integer stays exact)."""
    return bool(re.fullmatch(r"-?\d+(e\d+)?", value))
