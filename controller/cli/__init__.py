"""The controller's ``congress`` command groups: ``controller``, ``audit``, ``bench``, ``keypads``."""
