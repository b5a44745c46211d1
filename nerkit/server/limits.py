"""An ASGI middleware that refuses request bodies above a byte limit, or too slow to arrive.

The size limit is checked twice: on the declared Content-Length before anything is read,
and on the bytes actually received, for chunked uploads that declare no length (or lie);
either way the answer is a 413 JSON error. A body whose next part takes longer than
`timeout` seconds to arrive is answered 408 and the connection is closed, so a client that
drips a body cannot hold a connection (and the request that waits on it) for ever. (Slow
*headers* are the HTTP server's to limit, before any application code runs: put a reverse
proxy in front of a server exposed to the internet.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLarge(Exception):
    """Raised inside `receive` when the streamed body passes the limit."""


class _BodyTooSlow(Exception):
    """Raised inside `receive` when the next part of the body does not come in time."""


class BodySizeLimit:
    """Answer 413 to any HTTP request whose body is larger than `max_bytes`, 408 to a slow one."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    def _error(self, found: str) -> JSONResponse:
        return JSONResponse(
            status_code=413,
            content={
                "detail": f"request body too large: at most {self.max_bytes} bytes, got {found} "
                "(send fewer or shorter texts per request)"
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await JSONResponse(
                    status_code=400,
                    content={"detail": f"invalid Content-Length header {declared.decode()!r}"},
                )(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._error(f"Content-Length {int(declared)}")(scope, receive, send)
                return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = {"received": 0, "exceeded": False, "started": False, "slow": False}

        async def limited_receive() -> Message:
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except asyncio.TimeoutError:
                state["slow"] = True
                raise _BodyTooSlow from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["exceeded"] = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["exceeded"] or state["slow"]:
                return  # the app's answer to a failed read is replaced by the error below
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # frameworks may wrap our exception (FastAPI turns body errors into a 400)
            if not (state["exceeded"] or state["slow"]):
                raise
        if state["slow"] and not state["started"]:
            detail = f"the request body did not arrive within {self.timeout:g} s"
            response = JSONResponse(
                status_code=408, content={"detail": detail}, headers={"connection": "close"}
            )
            await response(scope, receive, send)
            return
        if state["exceeded"] and not state["started"]:
            await self._error(f"more than that ({state['received']} bytes so far)")(
                scope, receive, send
            )
