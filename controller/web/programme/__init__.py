"""Programme pages: the editor, now on the agenda, session roll calls, the hall projector."""
