"""Benchmarks of nablisp against plain CPython running the same algorithm."""
