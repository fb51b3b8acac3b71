"""Realistic events, fleets and alarms, and a harness that runs the real function on the embedded AWS."""
