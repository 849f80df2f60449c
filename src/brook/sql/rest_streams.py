"""The push queries running on /query-stream, per app (ksqlDB's Server.queries), and /close-query: a closed
query's response ends as when its LIMIT is reached (the JSON array closed), and its consumer closes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

if TYPE_CHECKING:
    from fastapi import FastAPI


class PushQueries:
    """The open push queries of one app, by query id: closing one sets its event."""

    def __init__(self) -> None:
        self.running: dict[str, asyncio.Event] = {}

    def close(self, query_id: str) -> bool:
        closed = self.running.pop(query_id, None)
        if closed is None:
            return False
        closed.set()
        return True

    def rows(self, query_id: str, source: AsyncIterator[list]) -> AsyncIterator[list]:
        """`source`'s rows until it ends or the query is closed; registered now, before the response's header
        names the query id."""
        closed = asyncio.Event()
        self.running[query_id] = closed
        return self._rows(query_id, closed, source)

    async def _rows(self, query_id: str, closed: asyncio.Event, source: AsyncIterator[list]) -> AsyncIterator[list]:
        # each row is awaited against the close event: a close cancels a pending poll at once (the source's own
        # finally closes its consumer)
        waiter = asyncio.ensure_future(closed.wait())
        it = source.__aiter__()
        pending: asyncio.Future | None = None
        try:
            while True:
                pending = asyncio.ensure_future(it.__anext__())
                done, _ = await asyncio.wait({pending, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if pending not in done:
                    return
                step, pending = pending, None
                try:
                    values = step.result()
                except StopAsyncIteration:
                    return
                yield values
        finally:
            if self.running.get(query_id) is closed:
                del self.running[query_id]
            waiter.cancel()
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):  # still running in a cancelled step: it ends by itself
                    await aclose()


def _error(code: int, message: str) -> Response:
    body = json.dumps({"@type": "generic_error", "error_code": code, "message": message}, separators=(",", ":"))
    return Response(body, status_code=code // 100, media_type="application/json")


def add_routes(app: FastAPI, queries: PushQueries) -> None:
    @app.post("/close-query")
    async def close_query(request: Request) -> Response:
        raw = await request.body()
        try:
            args: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            return _error(40000, f"Invalid JSON in request: {e}")
        if not isinstance(args, dict) or "queryId" not in args:
            return _error(40000, "Invalid JSON in request: Missing required creator property 'queryId' (index 0)")
        query_id = args["queryId"]
        if not isinstance(query_id, str) or not queries.close(query_id):
            return _error(40000, f"No query with id {query_id}")
        return Response(b"", status_code=200)
