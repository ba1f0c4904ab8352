"""shopapi: a tiny orders API, the example project that gonogo's own checks run on."""

__version__ = "1.4.0"

__all__ = ["__version__"]
