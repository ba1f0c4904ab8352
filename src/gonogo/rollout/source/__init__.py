"""Metric sources: per-variant counts and latency histograms (``builtin``, ``prometheus``)."""
