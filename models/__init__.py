"""Model files for the face engine and the scripts that build them (``python -m models.builder``)."""
