"""Scanners, one module per source kind; each turns a file into reads and definitions."""
