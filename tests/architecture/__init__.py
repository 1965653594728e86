"""Tests of the shape of the codebase: which package may import which."""
