"""``congress controller ballot create|open|close|show`` on a configured controller (SQLite): a
two-seat election with an unfilled seat, counted and shown with its rounds; refusals exit non-zero
with a message."""

from __future__ import annotations

import json

from congress.cli import main
from congress.config import load_config
from congress.config.controller import ControllerConfig
from congress.keypads.protocol import VoteFrame
from controller.app import open_database
from controller.checkins.attendance import QuorumPolicy
from controller.storage import migrate
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from tests.controller.test_controller_cli import write_config

from .conftest import Roster


def test_ballot_commands(tmp_path, capsys):
    cfg = write_config(tmp_path, f"sqlite:///{tmp_path}/congress.db")
    assert main(["controller", "migrate", "--config", cfg]) == 0
    db = open_database(load_config(cfg, ControllerConfig))
    roster = Roster(db)
    roster.check_in(roster.add(4))
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, 5)}, actor="tech")
    capsys.readouterr()
    args = ["--config", cfg, "--json"]
    assert main(["controller", "ballot", "create", "Ban Thư ký", "--kind", "election", "--option", "An",
                 "--option", "Bình", "--option", "Châu", "--seats", "2", "--secret", "--rule", "share",
                 "--share", "1/2", "--base", "valid", *args]) == 0
    bid = json.loads(capsys.readouterr().out)["ballot"]
    assert main(["controller", "ballot", "open", str(bid), *args]) == 0
    assert json.loads(capsys.readouterr().out)["eligible"] == 4
    with db.session() as s:  # An 4, Bình 2, Châu 2: only An has more than half of 4
        Ballots(db, QuorumPolicy()).record_votes(s, [VoteFrame(k, 1, bid, frozenset({1, 2 if k < 3 else 3}))
                                                     for k in range(1, 5)])
    assert main(["controller", "ballot", "close", str(bid), *args]) == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["elected"] == ["An"] and result["tied"] == [] and result["required"] == 3
    assert result["next_round"] == {"seats": 1, "candidates": ["Bình", "Châu"]}
    assert main(["controller", "ballot", "show", str(bid), *args]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "closed" and shown["election"]["rounds"][0]["elected"] == ["An"]
    assert main(["controller", "ballot", "show", str(bid), "--config", cfg]) == 0
    assert "Ban Thư ký" in capsys.readouterr().out
    assert main(["controller", "ballot", "close", str(bid), *args]) == 1
    assert "is not open" in capsys.readouterr().err
    assert main(["controller", "ballot", "create", "x", "--kind", "motion", "--option", "A", *args]) == 1
    assert "takes no candidates" in capsys.readouterr().err
    assert migrate.current(db) == migrate.head()
    db.dispose()
