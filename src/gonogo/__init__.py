"""gonogo: release readiness as code, with evidence, sign-offs and an audit trail."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gonogo")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
