"""One file per schema revision, oldest first (``NNNN_*.py``)."""
