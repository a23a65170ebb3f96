"""Keypad state rows: the persisted replay counter and the health shown on the devices page.

The reader loads the rows of one batch with :meth:`KeypadStore.load` inside its transaction (rows
are created on first contact); the devices page reads :meth:`KeypadStore.health`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.storage.database import Database, utcnow
from controller.voting.tables import KeypadAssignment, KeypadState

STALE_AFTER = dt.timedelta(minutes=5)
LOW_BATTERY = 20


class KeypadStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def load(s: Session, keypad_ids: set[int]) -> dict[int, KeypadState]:
        rows = {r.keypad_id: r for r in s.scalars(
            select(KeypadState).where(KeypadState.keypad_id.in_(keypad_ids)).with_for_update())}
        for kid in keypad_ids - rows.keys():
            rows[kid] = KeypadState(keypad_id=kid, last_counter=0)
            s.add(rows[kid])
        s.flush()
        return rows

    def counter(self, keypad_id: int) -> int:
        with self.db.session() as s:
            row = s.get(KeypadState, keypad_id)
            return row.last_counter if row else 0

    def health(self) -> list[dict]:
        """One row per known keypad (paired and seen, or assigned), with a short alarm text."""
        now = utcnow()
        with self.db.session() as s:
            states = {r.keypad_id: r for r in s.scalars(select(KeypadState))}
            assigned = {a.keypad_id: a for a in s.scalars(select(KeypadAssignment))}
        out = []
        for kid in sorted(states.keys() | assigned.keys()):
            st, a = states.get(kid), assigned.get(kid)
            seen = st.last_seen if st else None
            alarm = ""
            if a and a.lost:
                alarm = "reported lost"
            elif seen is None:
                alarm = "never heard"
            elif now - seen > STALE_AFTER:
                alarm = "not heard for more than 5 minutes"
            elif st.battery_pct is not None and st.battery_pct < LOW_BATTERY:
                alarm = "battery low"
            out.append({
                "keypad_id": kid,
                "delegate_id": a.delegate_id if a else None,
                "mode": a.mode.value if a else None,
                "battery_pct": st.battery_pct if st else None,
                "rssi_dbm": st.rssi_dbm if st else None,
                "last_seen": seen.isoformat() if seen else None,
                "seconds_since_seen": round((now - seen).total_seconds()) if seen else None,
                "alarm": alarm,
            })
        return out
