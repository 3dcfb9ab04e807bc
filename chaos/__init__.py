"""Chaos drills against real processes: `make chaos` (python -m chaos). See chaos/drills.py."""
