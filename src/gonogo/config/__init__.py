"""Environment hardening: the env-var inventory, its scanners, the runtime validator, refs.

Importing this package imports nothing else: :mod:`gonogo.config.runtime` is used by
services at start-up and must stay light (standard library only).
"""
