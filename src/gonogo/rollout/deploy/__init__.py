"""Deployers: put a version on a target (``local`` supervised processes, ``command``)."""
