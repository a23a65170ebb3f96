"""The demo venue end to end: the scripted congress (``congress demo --scenario --json``) and the
interactive demo started, visited and stopped with Ctrl-C, both as real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from demo.photos import faces_dir

CONGRESS = [sys.executable, "-m", "congress"]
needs_demo_parts = pytest.mark.skipif(
    faces_dir() is None or not Path("/usr/sbin/mosquitto").exists(),
    reason="needs the face photo set (../shared/data/faces/lfw-dev) and mosquitto",
)


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if text.encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


def _login(url: str, name: str, password: str) -> urllib.request.OpenerDirector:
    """Log in to the controller page like a browser: the form's CSRF token, then the session cookie."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(url + "/login", timeout=10) as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1)
    form = urllib.parse.urlencode({"name": name, "password": password, "csrf_token": token}).encode()
    with opener.open(url + "/login", data=form, timeout=10) as r:
        assert r.status == 200 and "/login" not in r.url
    return opener


def _post(opener, url: str, page: str, action: str, **fields: str) -> None:
    """Submit a form of ``page`` (with the session's CSRF token and ``fields``) to ``action``."""
    import urllib.parse

    with opener.open(url + page, timeout=10) as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1)
    with opener.open(url + action, data=urllib.parse.urlencode({"csrf_token": token, **fields}).encode(),
                     timeout=10) as r:
        assert r.status == 200 and "error=" not in r.url, r.url


@needs_demo_parts
@pytest.mark.slow
def test_scenario_runs_a_congress_and_loses_nothing(tmp_path):
    proc = subprocess.run([*CONGRESS, "demo", "--scenario", "--json", "--delegates", "24", "--arrivals", "20",
                           "--dir", str(tmp_path / "venue")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    s = json.loads(proc.stdout)
    assert s["ok"] is True and s["lost"] == 0
    c = s["checkins"]
    assert c["signed"] == c["stored"] >= 17 and c["duplicates"] == 0 and c["wrongly_recognised"] == []
    # The attendant door asked staff about some arrivals; staff answered each (the unit heard it), and
    # checked in by hand those no door recognised: everyone who arrived is present.
    assert c["lane"]["asked"] >= 1 and c["lane"]["asked"] == c["lane"]["confirmed"] + c["lane"]["refused"]
    assert c["lane"]["units_told"] == c["lane"]["asked"] and c["lane"]["amber_before_answers"] == ["door-2"]
    assert c["by_hand"]["delegates"] == c["not_recognised"]
    assert s["present"] == c["checked_in"] + c["by_hand"]["checked_in"] == c["expected"]
    assert s["quorum"]["reached"] is True and s["keypads"] == 200
    assert s["delegates"] == 24 and s["photos"].startswith("Labeled Faces in the Wild dev set")
    assert s["votes_counted"] == 2 * s["present"]
    assert s["motion"]["as_scripted"] and s["election"]["as_scripted"]
    assert s["motion"]["votes"]["intruders_refused"] == 5
    assert s["election"]["votes"]["second_press_refused"] == 1
    assert s["election"]["result"]["elected"] == s["election"]["expected"]["elected"]
    # Elections as a party congress runs them: two rounds (a tie in round one), keypads with paper, the
    # committee's confirmation, and the minutes of the whole congress as a PDF with Vietnamese text.
    presidium = next(e for e in s["elections"] if len(e["rounds"]) == 2)
    assert presidium["rounds"][0]["tied"] and presidium["rounds"][1]["elected"] and presidium["settled"]
    assert len(presidium["elected"]) == presidium["seats"] == 2
    assert all(len(e["rounds"]) >= 1 and "elected" in e for e in s["elections"])
    # The two-round election is made from a candidate list the congress approved by its motion.
    (cl,) = s["candidate_lists"]
    assert presidium["candidate_list"] == cl["name"] and cl["election"] == presidium["rounds"][0]["ballot"]
    assert cl["motion"]["state"] == "adopted" and cl["motion"]["counts"]["Yes"] == s["present"]
    numbered = [c["name"] for c in cl["candidates"] if c["number"]]
    assert numbered == presidium["rounds"][0]["candidates"] and len(numbered) == 3
    assert [c["status"] for c in cl["candidates"] if not c["number"]] == ["declined"]
    mixed = s["mixed_ballot"]
    assert mixed["as_scripted"] and mixed["paper_ballots"] == 3 and mixed["result"]["confirmed"]["by"]
    assert mixed["result"]["valid"] == s["present"]
    text = subprocess.run(["pdftotext", s["minutes_pdf"], "-"], capture_output=True, text=True,
                          check=True).stdout
    for words in ("Biên bản Đại hội", "Nguyễn Thị Phương Thảo", "Trần Văn Bình", "vòng 2", "Bùi Thị Lan",
                  "Trưởng Ban kiểm phiếu", "Danh sách ứng cử: Presidium", "Đặng Thùy Trâm"):
        assert words in text, words
    assert s["portal"]["url"].endswith("/p/") and len(s["portal"]["codes"]) == 3
    assert s["threads_left"] == []
    # Every process the demo started is gone (the broker ran from the venue folder).
    assert _processes_mentioning(str(tmp_path / "venue")) == []


@needs_demo_parts
@pytest.mark.slow
def test_interactive_demo_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    work = tmp_path / "venue"
    log = (tmp_path / "demo.log").open("w")
    # Its own session, so that Ctrl-C can be imitated as a terminal sends it: to the whole group.
    proc = subprocess.Popen([*CONGRESS, "demo", "--delegates", "10", "--arrivals", "10", "--dir", str(work)],
                            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(lines)
        assert "Press Ctrl-C" in text, text
        url = re.search(r"controller page: (\S+)", text).group(1)
        login = re.search(r"login:\s+(\S+) / (\S+)", text)
        assert login.group(1) == "admin" and len(login.group(2)) >= 12
        # The delegates' app on the tablet port, with sign-in codes for a few demo delegates.
        portal = re.search(r"delegates' app:\s+(\S+)", text).group(1)
        assert portal.endswith("/p/") and portal != url + "/p/"
        assert len(re.findall(r"^\s+[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}  ", text, re.M)) == 3
        with urllib.request.urlopen(portal + "signin", timeout=10) as r:
            assert r.status == 200 and "csrf-token" in r.read().decode()
        opener = _login(url, login.group(1), login.group(2))
        # A candidate list open for nominations, two candidates accepted and numbered.
        assert re.search(r"candidates:\s+'Ban Chấp hành' at \S+/candidates", text), text
        with opener.open(url + "/candidates/1", timeout=10) as r:
            assert r.read().decode().count('<td class="no">') == 3
        # The doors replay their arrivals at camera pace: check-ins reach the page while we watch.
        deadline = time.monotonic() + 120
        while True:
            with opener.open(url + "/api/summary", timeout=10) as r:
                summary = json.loads(r.read())
            if summary["quorum"]["reached"] and summary["checkins"]:
                break
            assert time.monotonic() < deadline, summary
            time.sleep(1)
        assert summary["units"]["total"] == 2
        # Every keypad reported in when the base station came up: battery and signal, no alarm.
        with opener.open(url + "/api/keypads", timeout=10) as r:
            keypads = json.loads(r.read())
        assert len(keypads["keypads"]) == 200
        assert all(k["alarm"] == "" and k["battery_pct"] is not None and k["seconds_since_seen"] is not None
                   for k in keypads["keypads"])
        # The chair opens the drafted motion on the ballots page; the simulated keypads vote by radio.
        _post(opener, url, "/ballots/1", "/ballots/1/open")
        deadline = time.monotonic() + 60
        while True:
            with opener.open(url + "/api/ballots/1", timeout=10) as r:
                ballot = json.loads(r.read())
            if ballot["progress"]["received"] >= summary["quorum"]["present"]:
                break
            assert time.monotonic() < deadline, ballot
            time.sleep(0.5)
        _post(opener, url, "/ballots/1", "/ballots/1/close", confirmed="yes")  # the page asks first
        with opener.open(url + "/api/ballots/1", timeout=10) as r:
            ballot = json.loads(r.read())
        # Doors go on checking delegates in meanwhile, and a delegate checked in votes too: every
        # delegate present at the opening voted, and nobody else but later arrivals.
        with opener.open(url + "/ballots/1/export.json", timeout=10) as r:
            record = json.loads(r.read())
        assert ballot["status"] == "closed"
        assert ballot["result"]["cast"] >= record["present_at_open"] >= summary["quorum"]["present"]
        assert ballot["result"]["cast"] <= 10
        # The doors' decisions go to the work folder's log, not over the login on the terminal.
        assert re.search(r"log:\s+(\S+demo\.log)", text).group(1) == str(work / "venue" / "demo.log")
        assert "door decision" in (work / "venue" / "demo.log").read_text()
        assert "door decision" not in (tmp_path / "demo.log").read_text()
        assert _processes_mentioning(str(work / "venue" / "broker")), "mosquitto is not running"
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:  # a failed check: take the demo's broker and doors down with it
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        log.close()
    assert _processes_mentioning(str(work)) == []
    assert "Traceback" not in (tmp_path / "demo.log").read_text()
