"""The whole venue on one machine: ``congress demo`` (stays up) and ``congress demo --scenario``.

Modules, in the order the demo uses them:

* :mod:`demo.photos` finds real face photos and splits each person's photos into enrollment
  photos (the controller) and arrival photos (what the door cameras replay);
* :mod:`demo.venue` creates the venue on disk: CA, certificates, configurations, keys;
* :mod:`demo.stack` starts the parts for real: Mosquitto with TLS, the controller (SQLite,
  ingest, gallery, ballots, keypad reader, web page), two door units, the keypad base station;
* :mod:`demo.scenario` plays a scripted congress on that stack and checks the outcome.
"""
