"""Heavy evaluations of the face engine on the shared face data (benchmarks, not unit tests).

* ``python -m models.eval.venue`` — open-set identification with the largest gallery the dev data
  allows, measured, and extrapolated to a 2,000-person gallery;
* ``python -m models.eval.spoof`` — passive anti-spoofing on ``spoof/`` and false refusals on real faces.

``congress edge walkthrough`` (the door's multi-frame decision) lives with the door unit's code.
Figures and commands are recorded in docs/benchmarks.md.
"""
