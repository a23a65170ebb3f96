"""Controller: delegates, ingest, attendance, quorum, ballots and the technician web page."""
