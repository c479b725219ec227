"""The service: build the App, bind the HTTP server, serve until SIGTERM/SIGINT, stop cleanly.

`dumper serve` calls `run`; the HTTP package stays a plain adapter that knows nothing of
processes or signals.
"""

from __future__ import annotations

import signal
import threading

from dumper.app import App
from dumper.config import Config
from dumper.errors import ConfigError
from dumper.http.server import build_dispatcher, make_server, serve_until
from dumper.log import get_logger

log = get_logger("service")


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop` (main thread only, as Python requires)."""

    def handler(signum: int, frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# docker stop waits 10 s before SIGKILL; App.stop adds up to 5 s of grace after cancelling, so
# this leaves time to record cut-off jobs as failed before the kill.
STOP_TIMEOUT = 4.0


def run(config: Config, *, stop: threading.Event | None = None) -> int:
    """`dumper serve`: build and start the App, serve until SIGTERM/SIGINT (or `stop`), stop."""
    stop = stop if stop is not None else threading.Event()
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(stop)
    app = App.build(config)
    try:
        # Bind before starting jobs, so a busy port fails fast with nothing running.
        server = make_server(
            build_dispatcher(app, config),
            config.app_host,
            config.app_port,
            config.max_body_bytes,
            max_connections=config.max_connections,
            timeout=config.http_timeout,
        )
    except OSError as exc:
        app.stop(timeout=0)
        where = f"{config.app_host}:{config.app_port}"
        raise ConfigError(
            f"cannot listen on {where}: {exc.strerror or exc} (check APP_HOST and APP_PORT)",
            fields={"APP_PORT": str(exc.strerror or exc)},
        ) from None
    app.start()
    host, port = server.server_address[:2]
    try:
        serve_until(
            server,
            stop,
            on_ready=lambda: log.info("dumper serving on http://%s:%s", host, port),
        )
    finally:
        log.info("stopped accepting; giving running jobs up to %.0f s", STOP_TIMEOUT)
        app.stop(timeout=STOP_TIMEOUT)
        log.info("dumper stopped")
    return 0
