"""The delegates' portal on the web: ``views`` (``/p/``, the delegates' app) and ``staff`` (``/portal``)."""
