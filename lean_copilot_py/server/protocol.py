"""pygls' LSP protocol, hardened at its edges: every request gets an answer, even a malformed one, and the
answer never carries a traceback.

What pygls 2.x does by itself and what we change (read from pygls/protocol/json_rpc.py, io_.py):
- a body that is not JSON, or whose `params` do not fit the method (`params: null`), raises inside its
  reader loop and is only logged; a `jsonrpc` other than "2.0" is dropped silently. Here each gets the
  JSON-RPC error: ParseError (id null), InvalidRequest (the id when there is one), InvalidParams.
- after `shutdown`, requests are dropped silently; LSP says they get InvalidRequest. We also count
  `shutdown` from the moment it arrives (pygls: once its handler finished), so the exit code of an `exit`
  that follows at once, in the same write, is still 0.
- an exception in a handler is answered with its traceback in `error.data`; we log it and answer with
  a one-line message.
- positions are always UTF-16 (the contract; clients must support it), $/cancelRequest also reaches
  searches a command is waiting on (pygls cannot cancel command handlers), and `exit` stops our serve loop
  instead of calling sys.exit from a callback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from .framing import Frame, Oversized

if TYPE_CHECKING:
    from .app import CopilotServer

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
LIFECYCLE = frozenset({lsp.SHUTDOWN, lsp.EXIT})
LIFECYCLE_MAX_BYTES = 4096  # a shutdown or exit message is ~60 bytes


def _envelope_problem(data: Any) -> str | None:
    """Why ``data`` is not a JSON-RPC 2.0 request, notification or response (None if it is one)."""
    if not isinstance(data, dict):
        return "a message must be a JSON object (batches are not used by LSP)"
    if data.get("jsonrpc") != "2.0":
        return f'"jsonrpc" must be "2.0", not {json.dumps(data.get("jsonrpc"))[:20]}'
    if "id" in data and (isinstance(data["id"], bool) or not isinstance(data["id"], int | str)):
        if "method" in data or data["id"] is not None:
            return '"id" must be an integer or a string'
    if "method" in data:
        if not isinstance(data["method"], str):
            return '"method" must be a string'
        if "params" in data and data["params"] is not None and not isinstance(data["params"], dict | list):
            return '"params" must be an object or an array'
    elif "id" not in data or ("result" not in data and "error" not in data):
        return "neither a request, a notification nor a response"
    return None


def _usable_id(data: Any) -> Any:
    """The id to answer with: the message's own when it is a valid id, else null (as JSON-RPC says)."""
    if isinstance(data, dict):
        msg_id = data.get("id")
        if isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
            return msg_id
    return None


def plain_message(message: str) -> str:
    """The first line of an error message, bounded: what a client shows, never a stack."""
    first = message.strip().splitlines()[0] if message.strip() else "internal error"
    return first if len(first) <= 300 else first[:297] + "..."


class CopilotProtocol(LanguageServerProtocol):
    _server: CopilotServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_requested = False
        self.skipped_after_eof = 0

    # --- from bytes to a dispatched message ---------------------------------------------------

    def handle_frame(self, frame: Frame, *, lifecycle_only: bool = False) -> None:
        """One frame from the reader. ``lifecycle_only``: the client's stdin has ended, so nobody waits for
        work any more; only `shutdown`/`exit` (which decide the exit code) are still handled."""
        if isinstance(frame, Oversized):
            self._reply_error(None, INVALID_REQUEST, f"a message of {frame.length} bytes is over the limit; skipped")
            return
        if lifecycle_only and len(frame) > LIFECYCLE_MAX_BYTES:  # not worth parsing: it cannot be one of them
            self.skipped_after_eof += 1
            return
        try:
            data = json.loads(frame)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("a message that is not JSON (%s); answered with a parse error", exc)
            self._reply_error(None, PARSE_ERROR, f"the message is not valid JSON: {exc}")
            return
        problem = _envelope_problem(data)
        if problem is not None:
            log.warning("invalid JSON-RPC message: %s", problem)
            self._reply_error(_usable_id(data), INVALID_REQUEST, f"invalid JSON-RPC message: {problem}")
            return
        method = data.get("method")
        if lifecycle_only and method not in LIFECYCLE:
            self.skipped_after_eof += 1
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException:  # pygls logged the details
            self._bad_params(data)
            return
        self.handle_message(message)

    def _bad_params(self, data: dict[str, Any]) -> None:
        method, msg_id = data.get("method"), data.get("id")
        if method is None:
            # A response we cannot read still ends the request we sent: its waiter gets an error.
            self._handle_response(msg_id, None, lsp.ResponseError(code=INVALID_PARAMS, message="unreadable response"))
        elif msg_id is not None:
            self._reply_error(msg_id, INVALID_PARAMS, f"invalid params for {method}")
        else:
            log.warning("ignoring the notification %s: its params do not fit", method)

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if self.shutdown_requested and method != lsp.EXIT:
            if method is not None and hasattr(message, "id"):
                self._reply_error(message.id, INVALID_REQUEST, f"{method}: the server is shutting down")
            elif method is not None:
                log.info("ignoring %s after shutdown", method)
            else:
                super().handle_message(message)  # a response to one of our requests
            return
        if method == lsp.SHUTDOWN and hasattr(message, "id"):
            self.shutdown_requested = True
        super().handle_message(message)

    # --- answers ---------------------------------------------------------------------------------

    def _reply_error(self, msg_id: Any, code: int, message: str) -> None:
        self._send_response(msg_id, error=lsp.ResponseError(code=code, message=message))

    def _send_response(self, msg_id: Any, result: Any | None = None, error: lsp.ResponseError | None = None) -> None:
        if error is not None and (error.code == INTERNAL_ERROR or _has_traceback(error.data)):
            # pygls puts the traceback in `data`; it was logged where it happened (the server log).
            error = lsp.ResponseError(code=error.code, message=plain_message(error.message), data=None)
        super()._send_response(msg_id, result, error)

    # --- LSP methods -------------------------------------------------------------------------------

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Generator[Any, Any, lsp.InitializeResult]:
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = None  # pygls then settles on UTF-16
        return (yield from super().lsp_initialize(params))

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._server.searches.request_cancelled(msg_id)
        super()._handle_cancel_notification(msg_id)

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args: Any) -> None:
        self._server.request_exit(0 if self.shutdown_requested else 1)


def _has_traceback(data: Any) -> bool:
    return isinstance(data, dict) and "traceback" in data
