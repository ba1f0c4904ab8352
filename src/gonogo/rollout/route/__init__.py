"""Routers: set the traffic split (``builtin`` proxy, ``nginx``, ``gateway-api``)."""
