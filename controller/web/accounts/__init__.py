"""Views of the accounts area: log in and out, one's own account, the users page."""
