"""The HTTP plumbing the two stand-in servers share: threads, JSON, bearer tokens, injected faults.

STAND-IN, NOT THE REAL SERVICE. A stand-in answers the requests leakvault's real SDK client sends,
as the public REST reference describes them, so the backend code under test is exercised end to end
through the SDK. It keeps everything in memory.

Test controls (never part of the emulated API) live under ``/_standin/``:
``POST /_standin/faults`` with ``{"status": 429, "count": 3}`` makes the next 3 API requests fail
with that status (in the service's error format), and ``GET /_standin/requests`` returns how many
API requests were served, so tests can assert that retries are bounded.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ApiError(Exception):
    """An error response in the emulated service's format."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Request:
    def __init__(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: Any) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


Handler = Callable[[Request], tuple[int, Any]]


class StandinServer:
    """A threaded JSON server; subclasses implement `authorize`, `route` and `error_body`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # one request at a time touches the in-memory state
        self._faults: list[int] = []
        self.requests_served = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to implement ------------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        raise NotImplementedError

    def route(self, request: Request) -> tuple[int, Any]:
        raise NotImplementedError

    def error_body(self, error: ApiError) -> Any:
        raise NotImplementedError

    def error_headers(self, error: ApiError) -> dict[str, str]:
        return {}

    # -- serving -----------------------------------------------------------------------------------

    def start(self, *, tls: ssl.SSLContext | None = None) -> int:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes; without NODELAY, Nagle's algorithm
                # meets the client's delayed ACK and every request costs 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def _serve(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return int(self._httpd.server_address[1])

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def inject_faults(self, status: int, count: int) -> None:
        with self.lock:
            self._faults.extend([status] * count)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = Request(handler.command, url.path, parse_qs(url.query), body, handler.headers)
        headers: dict[str, str] = {}
        if url.path.startswith("/_standin/"):
            status, payload = self._control(request)
        else:
            try:
                with self.lock:
                    self.requests_served += 1
                    if self._faults:
                        fault = self._faults.pop(0)
                        raise ApiError(fault, _REASONS.get(fault, "ERROR"), f"injected fault {fault}")
                    self.authorize(request)
                    status, payload = self.route(request)
            except ApiError as error:
                status, payload = error.status, self.error_body(error)
                headers = self.error_headers(error)
        data = b"" if payload is None else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _control(self, request: Request) -> tuple[int, Any]:
        if request.path == "/_standin/faults" and request.method == "POST":
            self.inject_faults(int(request.body["status"]), int(request.body.get("count", 1)))
            return 200, {}
        if request.path == "/_standin/requests":
            return 200, {"served": self.requests_served}
        return 404, {}


_REASONS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
