"""A forwarding HTTP proxy that can answer the next N requests with a chosen error itself.

Throttling cannot be switched on at will in a real OpenBao or moto server, so the tests put this
proxy between the backend and the real server: every request is forwarded untouched, except the
ones the test asked to fail, which get the exact status, headers and body the service sends when
it throttles. The backend's retry loop then meets real throttling responses and a real server.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Fault:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


# What each service sends when it throttles (from their API documentation).
VAULT_RATE_LIMITED = Fault(
    429,
    b'{"errors":["request path \\"secret/\\": rate limit quota exceeded"]}',
    (("Content-Type", "application/json"),),
)
AWS_THROTTLED = Fault(
    400,
    b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
    (("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "ThrottlingException")),
)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests = 0
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    def fail_next(self, fault: Fault, count: int) -> None:
        with self._lock:
            self._faults = [fault] * count
            self.requests = 0

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.requests += 1
            return self._faults.pop(0) if self._faults else None

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault()
                if fault is not None:
                    self._reply(fault.status, list(fault.headers), fault.body)
                    return
                upstream = http.client.HTTPConnection(proxy._host, proxy._port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    passed = [
                        (k, v)
                        for k, v in response.getheaders()
                        if k.lower() not in ("transfer-encoding", "connection", "content-length")
                    ]
                    self._reply(response.status, passed, data)
                finally:
                    upstream.close()

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextlib.contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
