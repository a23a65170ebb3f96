"""Views of the audit area: the audit trail and its chain check."""
