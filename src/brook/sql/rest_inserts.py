"""/inserts-stream (HTTP/2 only, as ksqlDB's): the request body is a JSON object {"target": ..., "properties": ...}
then one JSON row per line, read as it streams in; each row is produced to the target's topic as INSERT VALUES
encodes it (keys on Kafka's murmur2 partitions) and acknowledged, in order, once Kafka has it:
{"status":"ok","seq":n}, newline-delimited (the default) or as one JSON array (Accept: application/json).  A bad
row is answered with an error in ksqlDB's InsertError shape, and the response ends there."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import decimal
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from brook.sql import casts, jsonvalues
from brook.sql.parser import type_str

if TYPE_CHECKING:
    from brook.sql.engine import Engine
    from brook.sql.queries import Source

log = logging.getLogger("io.confluent.ksql.api.server.InsertsStreamHandler")
DELIMITED = "application/vnd.ksqlapi.delimited.v1"
SERVER_ERROR = "Error in processing inserts. Check server logs for details."
# ksqlDB's ReservedInternalTopics: its internal topics and ksql.readonly.topics' default
READ_ONLY = ["_confluent-ksql-.*", "_confluent.*", "__confluent.*", "_schemas", "__consumer_offsets",
             "__transaction_state", "connect-configs", "connect-offsets", "connect-status", "connect-statuses"]
# the Java classes of Vert.x's JsonObject values, named in ksqlDB's coercion errors
_JAVA = {str: "java.lang.String", bool: "java.lang.Boolean", int: "java.lang.Integer", float: "java.lang.Double",
         decimal.Decimal: "java.lang.Double",
         dict: "io.vertx.core.json.JsonObject", list: "io.vertx.core.json.JsonArray"}
Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]


class ApiError(Exception):
    """ksqlDB's KsqlApiException: an error code and message (HTTP status error_code // 100)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _dumps(value: Any) -> bytes:
    return jsonvalues.dumps(value, ensure_ascii=False).encode()


def identifier(text: str) -> str:
    """ksqlDB's Identifiers.getIdentifierText: a quoted name as written, any other upper-cased."""
    if text[:1] in ("`", '"'):
        quote = text[0]
        if len(text) < 2 or text[-1] != quote:
            raise ApiError(40000, "Invalid column / struct field name. Name: " + text
                           + ". Reason: Expected matching quote at end of value.")
        return text[1:-1].replace(quote * 2, quote)
    return text.upper()


def alternatives(engine: Engine, name: str) -> str:
    """MetaStore.checkAlternatives: the sources whose names differ from `name` in case only."""
    matches = sorted((s for s in engine.sources.values() if s.name.lower() == name.lower()), key=lambda s: s.name)
    if not matches:
        return ""
    if len(matches) > 1:
        listed = [f'"{s.name}" ({s.kind})' for s in matches]
        joined = ", ".join(listed[:-1]) + ("," if len(listed) > 2 else "") + " or " + listed[-1]
        return f"\nDid you mean {joined}? Hint: wrap the source name in double quotes to make it case-sensitive."
    only = matches[0].name
    if any(c.islower() for c in only):
        return f'\nDid you mean "{only}"? Hint: wrap the source name in double quotes to make it case-sensitive.'
    return f"\nDid you mean {only}? Hint: try removing double quotes from the source name."


def target(engine: Engine, name: str) -> Source:
    """InsertsStreamEndpoint.getDataSource: the source to insert into, or ksqlDB's refusal."""
    if engine.config.get("ksql.insert.into.values.enabled").strip().lower() == "false":
        raise ApiError(40000, "The server has disabled INSERT INTO ... VALUES functionality. To enable it, restart "
                       "your ksqlDB server with 'ksql.insert.into.values.enabled'=true")
    try:
        wanted = identifier(name)
    except ApiError as e:
        raise ApiError(40001, "Invalid target name: " + e.message.split("Reason: ", 1)[-1].rstrip(".")) from None
    source = engine.sources.get(wanted)
    if source is None:
        raise ApiError(40001, f"Cannot insert values into an unknown stream/table: `{wanted}`"
                       + alternatives(engine, wanted))
    if source.window is not None:
        raise ApiError(40001, "Cannot insert values into windowed stream/table")
    patterns = [f"{engine.config.service_id}ksql_processing_log", *READ_ONLY,
                *(p.strip() for p in engine.config.get("ksql.readonly.topics").split(",") if p.strip())]
    if any(re.fullmatch(p, source.topic) for p in patterns):
        raise ApiError(40001, f"Cannot insert values into read-only topic: {source.topic}")
    if source.is_source:  # CREATE SOURCE: read-only, as INSERT VALUES refuses it
        raise ApiError(40001, f"Cannot insert values into read-only {source.kind.lower()}: {source.name}")
    return source


def coerce(value: Any, t: tuple) -> Any:
    """ksqlDB's ApiSqlValueCoercer: JSON values as the column's type, numbers widened, nothing parsed from text
    (DECIMAL from a string excepted); None when the value does not fit."""
    kind = t[0]
    if value is None:
        return None
    if kind == "STRUCT":
        if not isinstance(value, dict):
            raise TypeError
        given = {identifier(k): v for k, v in value.items()}
        names = {n for n, _ in t[1]}
        if any(k not in names for k in given):
            raise TypeError
        return {n: coerce(given.get(n), ft) for n, ft in t[1]}
    if kind == "ARRAY":
        if not isinstance(value, list):
            raise TypeError
        return [coerce(v, t[1]) for v in value]
    if kind == "MAP":
        if not isinstance(value, dict):
            raise TypeError
        return {coerce(k, t[1]): coerce(v, t[2]) for k, v in value.items()}
    number = isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
    if kind == "DECIMAL":  # exact: the stream's JSON numbers are read as Decimals
        if not number and not isinstance(value, str):
            raise TypeError
        try:
            return casts.scaled(value, t[2] if len(t) > 2 else 0)
        except (ValueError, ArithmeticError):
            raise TypeError from None
    if kind == "STRING" and isinstance(value, str) or kind == "BOOLEAN" and isinstance(value, bool):
        return value
    if kind in ("INTEGER", "BIGINT", "DATE", "TIME", "TIMESTAMP") and number and isinstance(value, int):
        if kind == "INTEGER" and not -2**31 <= value < 2**31:
            raise TypeError
        return value
    if kind == "DOUBLE" and number:
        return float(value)
    if kind == "BYTES" and isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            raise TypeError from None
        return value
    raise TypeError


def row_of(source: Source, obj: dict) -> dict[str, Any]:
    """KeyValueExtractor: the row's columns (names upper-cased unless quoted), every key present, values coerced."""
    row: dict[str, Any] = {}
    for name, value in obj.items():
        try:
            key = identifier(name)
        except ApiError as e:
            raise ApiError(40000, e.message) from None
        if key in row:
            raise ApiError(40000, f"Found duplicate column / struct field name: {key}")
        row[key] = value
    out: dict[str, Any] = {}
    for name, _ in source.key_columns:
        if row.get(name) is None:
            raise ApiError(40000, f"Key field must be specified: {name}")
    for name, t in [*source.key_columns, *source.value_columns]:
        value = row.get(name)
        try:
            out[name] = coerce(value, t)
        except (TypeError, ApiError):
            java = _JAVA.get(type(value), "java.lang.Object")
            if isinstance(value, int) and not isinstance(value, bool) and not -2**31 <= value < 2**31:
                java = "java.lang.Long"
            raise ApiError(40000, f"Can't coerce a field of type class {java} into type {type_str(t)}") from None
    return out


class _Body:
    """The request body's lines as they arrive (ksqlDB's RecordParser.newDelimited("\\n"))."""

    def __init__(self, receive: Receive) -> None:
        self.receive, self.buffer, self.ended = receive, b"", False

    async def line(self) -> bytes | None:
        while b"\n" not in self.buffer and not self.ended:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.ended = True
                break
            self.buffer += message.get("body", b"")
            self.ended = not message.get("more_body", False)
        if b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            return line
        line, self.buffer = self.buffer, b""
        return line or None

    async def drain(self) -> None:
        """What the client still sends once the answer is decided is read and dropped (ksqlDB's handler ignores
        it), so that the response ends after the request does."""
        while not self.ended:
            message = await self.receive()
            self.ended = message["type"] == "http.disconnect" or not message.get("more_body", False)


def _negotiate(accept: str) -> str | None:
    """The route produces the delimited type, then application/json (Vert.x's choice: the most preferred media range
    of Accept that one of them matches, the first of them for a wildcard); no Accept is the delimited type."""
    if not accept.strip():
        return DELIMITED
    ranges = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            ranges.append((-float(q), i, media.lower()))
        except ValueError:
            continue
    for neg_q, _, media in sorted(ranges):
        if neg_q < 0:
            for produced in (DELIMITED, "application/json"):
                if media in (produced, "*/*", produced.split("/")[0] + "/*"):
                    return produced
    return None


async def _respond(send: Send, status: int, body: dict) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": _dumps(body)})


class InsertsStream:
    """The /inserts-stream endpoint as a plain ASGI app: it reads the request body while it writes the response."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        body = _Body(receive)

        async def send_last_after_drain(message: dict) -> None:
            # the response's end waits for the request's: hypercorn forgets an HTTP/2 stream once its response
            # ended, and DATA the client still sends on it then breaks the whole connection
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await body.drain()
            await send(message)

        await self._serve(scope, body, send_last_after_drain)

    async def _serve(self, scope: dict, body: _Body, send: Send) -> None:
        produces = _negotiate(dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1"))
        if produces is None:  # Vert.x's answer when no produced type is acceptable: 406, no body
            await send({"type": "http.response.start", "status": 406, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope.get("http_version") != "2":
            await _respond(send, 400, {"@type": "generic_error", "error_code": 40004,
                                       "message": "This endpoint is only available when using HTTP2"})
            return
        as_array = produces == "application/json"
        first = await body.line()
        try:
            args = json.loads(first or b"")
            if not isinstance(args, dict):
                raise ValueError("Cannot construct instance of `InsertsStreamArgs`: expected a JSON object")
            if not isinstance(args.get("target"), str):
                raise ValueError("Missing required creator property 'target' (index 0)")
        except (ValueError, UnicodeDecodeError) as e:
            await _respond(send, 400, {"@type": "generic_error", "error_code": 40000,
                                       "message": f"Invalid JSON in request: {e}"})
            return
        try:
            source = await asyncio.to_thread(target, self.engine, args["target"])
        except ApiError as e:
            await _respond(send, 400, {"@type": "generic_error", "error_code": e.code, "message": e.message})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json" if as_array else DELIMITED.encode())]})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await _Inserts(self.engine, source, body, send, as_array).run()


class _Inserts:
    """One insert stream: a reader producing rows, a writer sending their acks in order."""

    def __init__(self, engine: Engine, source: Source, body: _Body, send: Send, as_array: bool) -> None:
        from confluent_kafka import Producer

        from brook.cli.clients import producer_config

        self.source, self.body, self.send, self.as_array = source, body, send, as_array
        self.producer = Producer(producer_config({**engine.config.client_props(),
                                                  "client.id": "ksql-inserts-stream"}))
        self.acks: asyncio.Queue[tuple[int, asyncio.Future | ApiError] | None] = asyncio.Queue()
        self.written = False
        self.stop = threading.Event()

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.producer.poll(0.05)

    async def run(self) -> None:
        poller = threading.Thread(target=self._poll, daemon=True, name="inserts-stream-acks")
        poller.start()
        reader = asyncio.ensure_future(self._read())
        try:
            await self._write()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self.stop.set()
            await asyncio.to_thread(self.producer.flush, 10)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        seq = 0
        while (line := await self.body.line()) is not None:
            try:
                try:
                    obj = json.loads(line, parse_float=decimal.Decimal)
                except (ValueError, UnicodeDecodeError):
                    raise ApiError(40000, "Invalid JSON in inserts stream") from None
                if not isinstance(obj, dict):
                    raise ApiError(40000, "Invalid JSON in inserts stream")
                while True:
                    try:
                        outcome = self._produce(loop, obj)
                        break
                    except BufferError:  # the producer's queue is full: wait for deliveries to drain it
                        await asyncio.sleep(0.05)
                if isinstance(outcome, ApiError):
                    raise outcome
                self.acks.put_nowait((seq, outcome))
            except ApiError as e:
                self.acks.put_nowait((seq, e))
                return
            seq += 1
        self.acks.put_nowait(None)

    def _produce(self, loop: asyncio.AbstractEventLoop, obj: dict) -> asyncio.Future | ApiError:
        row = row_of(self.source, obj)
        done: asyncio.Future = loop.create_future()

        def settle(err: Any) -> None:
            if not done.done():
                done.set_result(err)

        def delivered(err: Any, _msg: Any) -> None:
            loop.call_soon_threadsafe(settle, err)

        try:
            key = self.source.encode_key(row, self.source.key_columns)
            value = self.source.encode_value(row, self.source.value_columns)
            self.producer.produce(self.source.topic, key=key, value=value, on_delivery=delivered)
        except BufferError:
            raise
        except Exception:  # noqa: BLE001 - as ksqlDB: any serializer failure is the generic server error
            log.exception("Error in processing inserts")
            return ApiError(50000, SERVER_ERROR)
        return done

    async def _write(self) -> None:
        while (item := await self.acks.get()) is not None:
            seq, outcome = item
            error = outcome if isinstance(outcome, ApiError) else None
            if error is None and isinstance(outcome, asyncio.Future) and await outcome is not None:
                error = ApiError(50000, SERVER_ERROR)  # Kafka refused the record
            if error is not None:
                await self._line({"@type": "InsertError", "error_code": error.code, "message": error.message,
                                  "status": "error", "seq": seq})
                break
            await self._line({"status": "ok", "seq": seq})
        end = (b"]" if self.written else b"[]") if self.as_array else b""
        await self.send({"type": "http.response.body", "body": end, "more_body": False})

    async def _line(self, body: dict) -> None:
        if self.as_array:
            chunk = (b"," if self.written else b"[") + _dumps(body)
        else:
            chunk = _dumps(body) + b"\n"
        self.written = True
        await self.send({"type": "http.response.body", "body": chunk, "more_body": True})
