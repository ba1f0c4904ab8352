"""Phase 4, CI gates: ``gonogo ci`` as the one blocking job, its workflow and its policy page."""
