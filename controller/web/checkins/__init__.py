"""Views of the check-ins area: dashboard, attendance, the live feed, the attendant lane."""
