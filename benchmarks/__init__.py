"""Pathways benchmarks: `python -m benchmarks.run` (or `make bench`); see docs/benchmarks.md."""
