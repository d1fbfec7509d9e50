"""Measurement scripts for the graders and detectors (run them as scripts, see docs/)."""
