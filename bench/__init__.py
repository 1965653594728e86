"""Benchmarks that print figures (never tests that assert times); see bench/README.md."""
