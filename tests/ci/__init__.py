"""Tests of Phase 4: the CI gate checks, `gonogo ci`, its workflow and policy page."""
