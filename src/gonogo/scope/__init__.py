"""Releases and their scope."""
