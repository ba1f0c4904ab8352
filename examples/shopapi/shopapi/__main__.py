"""``python -m shopapi``: serve the orders API on 127.0.0.1:$SHOPAPI_PORT.

Exit codes: 0 after a clean stop (SIGINT or SIGTERM), 1 when the port cannot
be bound, 2 on a configuration error.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Mapping
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from shopapi import __version__
from shopapi.app import ShopApp, configure_logging
from shopapi.config import Config, ConfigError, load_config

log = logging.getLogger("shopapi")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """The app writes structured access logs; drop wsgiref's plain-text ones."""

    def log_message(self, format: str, *args: Any) -> None:
        """Do not log (see :class:`shopapi.app.ShopApp`)."""


def build_server(config: Config, app: ShopApp) -> WSGIServer:
    """A threading WSGI server for ``app`` bound to the configured address."""
    return make_server(
        config.host,
        config.port,
        app,
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(environ: Mapping[str, str] | None = None) -> int:
    """Load the configuration, then serve until interrupted."""
    try:
        config = load_config(environ)
    except ConfigError as exc:
        print(f"shopapi: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    try:
        server = build_server(config, ShopApp())
    except OSError as exc:
        log.error("cannot listen", extra={"fields": {"port": config.port, "error": str(exc)}})
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    log.info(
        "listening",
        extra={"fields": {"host": config.host, "port": config.port, "version": __version__}},
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
