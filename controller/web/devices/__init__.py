"""Views of the devices area: door-unit health and the ingest's counters."""
