"""A tiny shop whose coverage the evidence tests measure."""
