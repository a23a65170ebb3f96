"""Benchmarks against real parts: the check-in bench and its simulated doors, the live feed, the keypads."""
