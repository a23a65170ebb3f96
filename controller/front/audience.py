"""Which live events a delegate receives on ``/p/events``, and what of them.

The controller's live bus carries everything the staff page shows (check-ins with names, device
health, the audit trail...); a delegate receives only the kinds in :data:`DELEGATE_KINDS`, and only
those addressed to them: ``data["to"]`` absent or ``"all"``, or a list of delegate ids holding
theirs (``to`` itself is not forwarded). A documents event names no document (a reference a delegate
may not read must not reach them); the portal reloads its list, which is filtered by access.
"""

from __future__ import annotations

from controller.live import Event, EventKind

#: Kinds a delegate's portal follows (its script's ``LIVE_KINDS``, and the staff port's stream,
#: :mod:`controller.web.portal.events`): the agenda, notices, documents changed, ballots (open,
#: closed, results), candidate lists changed (which list, what kind of change: never who) and ``resync``
#: (reload everything).
DELEGATE_KINDS = frozenset(
    {
        EventKind.AGENDA.value,
        EventKind.NOTICE.value,
        EventKind.DOCUMENTS.value,
        EventKind.BALLOT.value,
        EventKind.CANDIDATES.value,
        EventKind.RESYNC.value,
    }
)


def addressed(data: dict, delegate_id: str) -> bool:
    """Whether an event's ``to`` (absent, ``"all"``, or a list of delegate ids) includes the delegate."""
    to = data.get("to")
    if to is None or to == "all":
        return True
    if isinstance(to, str):
        return to == delegate_id
    return delegate_id in to


def for_delegates(event: Event) -> dict | None:
    """What every delegate may see of ``event`` (still to be checked per delegate with
    :func:`addressed`), or ``None`` when no delegate sees its kind."""
    if event.kind not in DELEGATE_KINDS:
        return None
    data = {k: v for k, v in event.data.items() if k != "to"}
    if event.kind == EventKind.DOCUMENTS.value:
        data = {"change": data.get("change", "changed")}
    elif event.kind == EventKind.CANDIDATES.value:
        data = {"list": data.get("list"), "change": data.get("change", "changed")}
    return data
