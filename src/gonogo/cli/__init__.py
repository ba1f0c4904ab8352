"""Thin Typer commands: parse, call the core, render. No logic lives here."""
