"""The service's HTTP endpoint: /healthz (the process answers), /readyz (the store is reachable and the
scheduler runs) and /metrics (Prometheus). Standard library server, one thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: not worth a line
        return


def start_http(host: str, port: int, ready: Callable[[], str | None]) -> WSGIServer:
    """Serve in a daemon thread; ``ready`` returns None when ready, else why not. Returns the server
    (``server_port`` tells the port when 0 was asked; ``shutdown()`` stops it)."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            return _text(start_response, "200 OK", "ok")
        if path == "/readyz":
            why = ready()
            status = "200 OK" if why is None else "503 Service Unavailable"
            return _text(start_response, status, why or "ready")
        return _text(start_response, "404 Not Found", "not found")

    server = make_server(host, port, app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


def _text(start_response: Callable[..., Any], status: str, body: str) -> list[bytes]:
    data = (body + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]
