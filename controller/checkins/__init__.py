"""Check-ins: the MQTT ingest (verify, store once, acknowledge), attendance and quorum, the attendant lane."""
