"""Benchmarks: `python -m bench followups` (or `make bench`); results go to bench/results."""
