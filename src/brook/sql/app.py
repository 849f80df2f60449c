"""ksqlDB's REST API as an ASGI app (FastAPI): /info, /healthcheck, /ksql, /query (chunked JSON) and
/query-stream (HTTP/1.1 or HTTP/2, JSON array or delimited).  Every error is ksqlDB's body, never the framework's."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from brook.sql import jsonvalues, printtopic, pullstream, push, rest_inserts, rest_session, rest_status, rest_streams
from brook.sql.engine import Engine, StatementError
from brook.sql.parser import ParseError, PrintTopic

log = logging.getLogger("io.confluent.ksql.rest.server.KsqlRestApplication")
VERSION = "0.29.0"
DELIMITED = "application/vnd.ksqlapi.delimited.v1"


def _dumps(value: Any) -> str:
    return jsonvalues.dumps(value, ensure_ascii=False)


class KsqlResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content).encode()


def generic_error(status: int, code: int, message: str) -> KsqlResponse:
    return KsqlResponse({"@type": "generic_error", "error_code": code, "message": message}, status_code=status)


def statement_error(e: StatementError) -> KsqlResponse:
    return KsqlResponse({"@type": "statement_error", "error_code": e.code, "message": e.message,
                         "statementText": e.statement, "entities": []}, status_code=e.code // 100)


async def _body(request: Request, field: str) -> tuple[str, dict]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise StatementError(40000, f"Error parsing request body: {e}") from None
    if not isinstance(body, dict) or not isinstance(body.get(field), str):
        raise StatementError(40000, f"Error parsing request body: the \"{field}\" field (a string) is missing")
    props = body.get("streamsProperties" if field == "ksql" else "properties") or {}
    if not isinstance(props, dict):
        raise StatementError(40000, "Error parsing request body: properties must be an object")
    return body[field], props


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    running = rest_streams.PushQueries()  # this app's push queries on /query-stream, for /close-query

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> KsqlResponse:
        return generic_error(exc.status_code, exc.status_code * 100, f"HTTP {exc.status_code} {exc.detail}")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> KsqlResponse:
        return generic_error(400, 40000, str(exc))

    @app.exception_handler(StatementError)
    async def ksql_error(_request: Request, exc: StatementError) -> KsqlResponse:
        if not exc.statement and exc.code == 40000:
            return generic_error(400, 40000, exc.message)
        return statement_error(exc)

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> KsqlResponse:
        log.exception("Unhandled error")
        return generic_error(500, 50000, str(exc) or type(exc).__name__)

    @app.get("/info")
    async def info() -> KsqlResponse:
        return KsqlResponse({"KsqlServerInfo": {"version": VERSION, "kafkaClusterId": engine.cluster_id,
                                                "ksqlServiceId": engine.config.service_id,
                                                "serverStatus": "RUNNING"}})

    @app.get("/healthcheck")
    async def healthcheck() -> KsqlResponse:
        def kafka_ok() -> bool:
            try:
                engine.admin.list_topics(timeout=5)
                return True
            except Exception:  # noqa: BLE001 - unhealthy is the answer
                return False
        kafka = await asyncio.to_thread(kafka_ok)
        body = {"isHealthy": kafka, "details": {"metastore": {"isHealthy": True}, "kafka": {"isHealthy": kafka},
                                                "commandRunner": {"isHealthy": True}}}
        return KsqlResponse(body, status_code=200 if kafka else 503)

    @app.post("/ksql")
    async def ksql(request: Request) -> KsqlResponse:
        text, props = await _body(request, "ksql")
        try:
            variables = rest_session.session_variables(await request.body())
            entities = await asyncio.to_thread(rest_session.execute, engine, text, props, variables)
        except ParseError as e:
            raise StatementError(40001, str(e), text) from None
        return KsqlResponse(entities)

    async def _prepare(text: str, props: dict) -> push.PushQuery | PrintTopic:
        try:
            return await asyncio.to_thread(push.prepare, engine, text, props)
        except ParseError as e:
            raise StatementError(40001, str(e), text) from None

    @app.post("/query")
    async def query(request: Request) -> StreamingResponse:
        text, props = await _body(request, "ksql")
        pq = await _prepare(text, props)
        if isinstance(pq, PrintTopic):
            return StreamingResponse(_print_lines(pq), media_type="application/json")

        async def chunks() -> AsyncIterator[bytes]:
            header = _dumps({"header": {"queryId": pq.query_id, "schema": pq.schema()}})
            if pq.pull_rows is not None:  # a pull query: the header and every row, then the array's end
                yield ("[" + ",\n".join([header, *(_dumps({"row": {"columns": v}}) for v in pq.pull_rows)])
                       + "]\n").encode()
                return
            yield ("[" + header + ",\n").encode()
            count = 0
            async for values in push.rows(engine, pq):
                yield (_dumps({"row": {"columns": values}}) + ",\n").encode()
                count += 1
            # a push query ends at its LIMIT; a pull query on a stream at its LIMIT or at the scan's end
            yield (_dumps({"finalMessage": pullstream.final_message(pq, count)}) + "]\n").encode()

        return StreamingResponse(chunks(), media_type="application/json")

    @app.post("/query-stream")
    async def query_stream(request: Request) -> StreamingResponse:
        text, props = await _body(request, "sql")
        pq = await _prepare(text, props)
        if isinstance(pq, PrintTopic):
            raise StatementError(40001, "PRINT is served on /query, not /query-stream", text)
        delimited = DELIMITED in request.headers.get("accept", "")

        async def chunks() -> AsyncIterator[bytes]:
            rows = push.rows(engine, pq) if pq.pull_rows is not None else \
                running.rows(pq.query_id, push.rows(engine, pq))
            if delimited:
                yield (_dumps(pq.metadata()) + "\n").encode()
                async for values in rows:
                    yield (_dumps(values) + "\n").encode()
                return
            yield ("[" + _dumps(pq.metadata())).encode()
            async for values in rows:
                yield ("," + _dumps(values)).encode()
            yield b"]"

        return StreamingResponse(chunks(), media_type=DELIMITED if delimited else "application/json")

    rest_streams.add_routes(app, running)
    rest_status.add_routes(app, engine)
    app.router.routes.append(Route("/inserts-stream", rest_inserts.InsertsStream(engine), methods=["POST"]))

    async def _print_lines(p: PrintTopic) -> AsyncIterator[bytes]:
        group = f"_confluent-ksql-{engine.config.service_id}transient_PRINT_{id(p)}"
        async for line in printtopic.lines(engine.config.client_props(), engine.config.schema_registry_settings(),
                                           p.topic, p.from_beginning, p.interval, p.limit, group):
            yield (line + "\n").encode()

    return app
