"""Gate engine: runner, verdicts, sign-offs."""
