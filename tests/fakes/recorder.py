"""An HTTP server on 127.0.0.1 that writes down every request's path and headers and answers 500: a
stand-in for an endpoint a hostile project names, to see what would have been sent there."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    """An HTTP server that writes down the headers of every request and answers 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                body = b'{"error": {"message": "recorder", "type": "server_error"}}'
                self.send_response(500)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bearers(self) -> set[str]:
        return {r.get("authorization", "") for r in self.requests}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
