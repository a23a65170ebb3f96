"""What people read for the values the code keeps as short English words (roles, states, alarms).

The database and the JSON API keep the values (``technician``, ``offline``, ``two_thirds``); pages show
``label(kind, value)``, translated. Add a kind here when an area adds an enum that a page shows; a value
missing from the table is shown as it is (and the template test lists it as untranslated).
"""

from __future__ import annotations

from enum import Enum

from flask import Flask
from flask_babel import gettext

from congress.i18n import N_

LABELS: dict[str, dict[str, str]] = {
    "role": {
        "admin": N_("administrator"),
        "technician": N_("technician"),
        "chair": N_("chair"),
        "observer": N_("observer"),
    },
    "unit_state": {
        "starting": N_("starting"),
        "ready": N_("ready"),
        "degraded": N_("degraded"),
        "stopping": N_("stopping"),
        "offline": N_("offline"),
    },
    "alarm": {
        "": N_("ok"),
        "offline": N_("offline"),
        "silent": N_("silent"),
        "backlog": N_("backlog"),
        "degraded": N_("degraded"),
        "reported lost": N_("reported lost"),
        "never heard": N_("never heard"),
        "not heard for more than 5 minutes": N_("not heard for more than 5 minutes"),
        "battery low": N_("battery low"),
    },
    "direction": {"in": N_("in"), "out": N_("out")},
    "method": {
        "face": N_("face"),
        "badge": N_("badge"),
        "badge+face": N_("badge + face"),
        "attendant": N_("attendant"),
        "manual": N_("by hand"),
    },
    "ballot_kind": {"motion": N_("motion"), "election": N_("election"),
                    "choice": N_("choice between options")},
    "ballot_status": {"draft": N_("draft"), "open": N_("open"), "closed": N_("closed")},
    "rule": {"simple": N_("simple"), "absolute": N_("absolute"), "two_thirds": N_("two-thirds"),
             "share": N_("more than a share")},
    "base": {"cast": N_("votes cast"), "present": N_("present"), "summoned": N_("summoned"),
             "collected": N_("ballots collected"), "valid": N_("valid ballots")},
    "candidate_status": {"nominated": N_("nominated"), "accepted": N_("accepted"), "declined": N_("declined"),
                         "withdrawn": N_("withdrawn")},
    "list_order": {"vietnamese": N_("Vietnamese alphabetical order of given names"),
                   "nomination": N_("order of nomination")},
    "list_motion": {"none": N_("not yet"), "draft": N_("motion drafted"), "open": N_("being voted on"),
                    "adopted": N_("adopted"), "rejected": N_("rejected")},
    "ballot_form": {"choose": N_("choose up to N"), "strike": N_("keep at most N, strike out the others")},
    "assign_mode": {"seat": N_("by seat plan"), "door": N_("at the door")},
    "keypad_action": {"found": N_("found"), "lost": N_("lost"), "unbind": N_("unbind")},
    "keypad_event": {
        "rebind_requested": N_("new binding asked for"),
        "rebind_confirmed": N_("new binding confirmed by the chair"),
        "rebind_rejected": N_("new binding refused by the chair"),
        "lost": N_("reported lost"),
        "found": N_("found"),
        "unbound": N_("released"),
    },
    "motion_option": {"Yes": N_("Yes"), "No": N_("No"), "Abstain": N_("Abstain")},
    "quorum": {"two-thirds": N_("two-thirds"), "majority": N_("majority")},
    "session_kind": {"preparatory": N_("preparatory session"), "official": N_("official session"),
                     "other": N_("other session")},
    "session_status": {"planned": N_("planned"), "open": N_("open"), "closed": N_("closed")},
    "access": {"public": N_("Public (guests, press)"), "delegates": N_("Delegates"),
               "group": N_("A named group"), "confidential": N_("Confidential: paper only (no file stored)")},
    "document_kind": {"draft": N_("draft"), "report": N_("report"), "resolution": N_("resolution"),
                      "speech": N_("speech"), "other": N_("other")},
    "link": {"up": N_("link up"), "down": N_("link down"), "unknown": N_("never heard"), "local": N_("here")},
    "colour": {"green": N_("green: working"), "amber": N_("amber: check"), "red": N_("red: offline")},
    "roster_field": {
        "id": N_("id"), "name": N_("name"), "delegation": N_("delegation"), "seat": N_("seat"),
        "photo": N_("photo"), "consent": N_("consent"), "summoned": N_("summoned"), "row": N_("row"),
        "site": N_("site"),
    },
    "synthesis_status": {"queued": N_("queued"), "running": N_("running"), "done": N_("finished"),
                         "failed": N_("failed"), "cancelled": N_("cancelled")},
    "synthesis_step": {"intake": N_("checking the contributions"), "segment": N_("splitting sentences"),
                       "embed": N_("reading the meaning"), "themes": N_("grouping themes and drafting"),
                       "done": N_("finished")},
    "input_kind": {"written": N_("written contribution"), "transcript": N_("speech transcript"),
                   "comment": N_("comment on a draft")},
    "intake_status": {"analysed": N_("analysed"), "duplicate": N_("duplicate"), "empty": N_("empty"),
                      "too_large": N_("too large"), "not_vietnamese": N_("not Vietnamese"),
                      "unreadable": N_("unreadable")},
    # The delegates' portal (controller.portal).
    "attendance_answer": {"attending": N_("will attend"), "absent": N_("reported absent")},
    "request_status": {"open": N_("open"), "done": N_("done"), "declined": N_("declined")},
    "audience": {"all": N_("everyone"), "delegation": N_("a delegation"), "group": N_("a group")},
    "feedback_status": {"received": N_("received"), "read": N_("read"), "taken_up": N_("taken up"),
                        "declined": N_("declined")},
    "speak_status": {"waiting": N_("waiting"), "speaking": N_("speaking"), "done": N_("has spoken"),
                     "withdrawn": N_("withdrawn")},
}


def label(kind: str, value: object) -> str:
    """The translated label of ``value`` (an enum member or its value) in the table ``kind``."""
    key = value.value if isinstance(value, Enum) else ("" if value is None else str(value))
    text = LABELS.get(kind, {}).get(key)
    return gettext(text) if text is not None else key


def quorum_label(rule: str) -> str:
    """``two-thirds``, ``majority`` or ``fixed:N`` as people read it."""
    if rule.startswith("fixed:"):
        return gettext("fixed: %(count)s", count=rule.removeprefix("fixed:"))
    return label("quorum", rule)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["role_label"] = lambda role: label("role", role)
    app.jinja_env.globals["quorum_label"] = quorum_label
