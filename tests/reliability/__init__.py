"""Reliability tests: faults injected at the transport seams, hostile input, secrets in logs."""
