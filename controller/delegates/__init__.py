"""Delegates: the roster and its import, face enrollment and the face vault, badges, the units' gallery."""
