"""Notices from the organisers to the delegates: everyone, one delegation or one named group.

:class:`Notices` (``Services.portal.notices``). Sending fixes the recipients there and then (one
``portal_notice_recipients`` row each, so "who has read it" is exact even if the roster changes) and
publishes one live event, ``EventKind.NOTICE`` with ``data["to"]`` = ``"all"`` or the recipients' ids;
the tablet listener (or the portal's own stream on the staff port) delivers it to those delegates
only, and their app shows it at once with its unread count. Opening it in the app marks it read.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, update

from congress.errors import CongressError
from congress.i18n import M_, Message
from congress.vietnamese import sort_key
from controller import audit
from controller.documents.tables import AccessGroup, AccessGroupMember
from controller.live import EventKind
from controller.portal.tables import Audience, Notice, NoticeRecipient
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

MAX_TITLE, MAX_BODY = 200, 5000


class NoticeRefused(CongressError):
    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


def _view(n: Notice, read_at=None) -> dict:
    return {"id": n.id, "title": n.title, "body": n.body, "urgent": n.urgent, "audience": n.audience.value,
            "audience_value": n.audience_value, "sent_at": n.sent_at.isoformat(),
            "read_at": read_at.isoformat() if read_at else None}


class Notices:
    def __init__(self, db: Database, publish: Callable[[str, dict], None] | None = None) -> None:
        self.db = db
        self._publish = publish or (lambda kind, data: None)

    def audiences(self) -> dict:
        """What the staff form offers: the delegations and the named groups."""
        with self.db.session() as s:
            delegations = sorted({d for d in s.scalars(select(Delegate.delegation)) if d}, key=sort_key)
            found = s.scalars(select(AccessGroup).order_by(AccessGroup.name))
            groups = [(g.name, g.title or g.name) for g in found]
        return {"delegations": delegations, "groups": groups}

    def send(self, title: str, body: str, *, audience: Audience = Audience.ALL, value: str = "",
             urgent: bool = False, actor: str) -> int:
        title, body, value = (title or "").strip(), (body or "").strip(), (value or "").strip()
        if not title:
            raise NoticeRefused(M_("a notice needs a title"))
        if len(title) > MAX_TITLE or len(body) > MAX_BODY:
            raise NoticeRefused(M_("the notice is too long (title %(title)d, text %(body)d characters "
                                   "at most)", title=MAX_TITLE, body=MAX_BODY))
        with self.db.session() as s:
            if audience is Audience.ALL:
                ids = list(s.scalars(select(Delegate.id)))
                value = ""
            elif audience is Audience.DELEGATION:
                ids = list(s.scalars(select(Delegate.id).where(Delegate.delegation == value)))
            else:
                ids = list(s.scalars(select(AccessGroupMember.delegate_id)
                                     .where(AccessGroupMember.group_name == value)))
            if not ids:
                raise NoticeRefused(M_("nobody would receive this notice: check the delegation or group"))
            n = Notice(title=title, body=body, urgent=urgent, audience=audience, audience_value=value,
                       sent_by=actor[:64])
            s.add(n)
            s.flush()
            s.add_all(NoticeRecipient(notice_id=n.id, delegate_id=i) for i in ids)
            audit.record(s, actor, "portal.notice_sent", {"notice": n.id, "audience": audience.value,
                                                           "value": value, "recipients": len(ids)})
            event = {"type": "notice", "notice": _view(n),
                     "to": "all" if audience is Audience.ALL else ids}
            notice_id = n.id
        self._publish(EventKind.NOTICE, event)
        return notice_id

    def for_delegate(self, delegate_id: str) -> dict:
        """The delegate's notices, newest first, with the unread count."""
        with self.db.session() as s:
            rows = s.execute(select(Notice, NoticeRecipient.read_at)
                             .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
                             .where(NoticeRecipient.delegate_id == delegate_id)
                             .order_by(Notice.sent_at.desc(), Notice.id.desc())).all()
        notices = [_view(n, read_at) for n, read_at in rows]
        return {"notices": notices, "unread": sum(1 for n in notices if n["read_at"] is None)}

    def mark_read(self, delegate_id: str, notice_id: int) -> bool:
        with self.db.session() as s:
            done = s.execute(update(NoticeRecipient)
                             .where(NoticeRecipient.notice_id == notice_id,
                                    NoticeRecipient.delegate_id == delegate_id,
                                    NoticeRecipient.read_at.is_(None))
                             .values(read_at=utcnow()))
            return done.rowcount == 1

    def sent(self) -> list[dict]:
        """Every notice with how many received and read it (staff page)."""
        with self.db.session() as s:
            counts = dict(s.execute(select(NoticeRecipient.notice_id, func.count())
                                    .group_by(NoticeRecipient.notice_id)).all())
            read = dict(s.execute(select(NoticeRecipient.notice_id, func.count())
                                  .where(NoticeRecipient.read_at.is_not(None))
                                  .group_by(NoticeRecipient.notice_id)).all())
            notices = s.scalars(select(Notice).order_by(Notice.sent_at.desc(), Notice.id.desc())).all()
            return [dict(_view(n), sent_by=n.sent_by, recipients=counts.get(n.id, 0), read=read.get(n.id, 0))
                    for n in notices]

    def readers(self, notice_id: int) -> dict | None:
        """One notice and who has read it, who not yet (names in Vietnamese order)."""
        with self.db.session() as s:
            n = s.get(Notice, notice_id)
            if n is None:
                return None
            rows = s.execute(select(Delegate.id, Delegate.name, Delegate.delegation, NoticeRecipient.read_at)
                             .join(NoticeRecipient, NoticeRecipient.delegate_id == Delegate.id)
                             .where(NoticeRecipient.notice_id == notice_id)).all()
            view = dict(_view(n), sent_by=n.sent_by)
        people = sorted(rows, key=lambda r: (sort_key(r.delegation), sort_key(r.name)))
        view["read"] = [{"id": r.id, "name": r.name, "delegation": r.delegation, "read_at": r.read_at}
                        for r in people if r.read_at is not None]
        view["unread"] = [{"id": r.id, "name": r.name, "delegation": r.delegation}
                          for r in people if r.read_at is None]
        return view
