"""Confluent Schema Registry's REST API as an ASGI app (FastAPI).  Every answer, errors included, is Confluent's
JSON in Confluent's shape; the framework's own error bodies never reach a client."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from brook.registry import errors, protobuf
from brook.registry.errors import RestError
from brook.registry.leader import LeaderElector
from brook.registry.registry import Registry
from brook.registry.registry import Request as SchemaRequest
from brook.registry.schemas import SCHEMA_TYPES, Reference

log = logging.getLogger("io.confluent.kafka.schemaregistry.rest.SchemaRegistryRestApplication")
MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
ACCEPTED_TYPES = ("application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json",
                  "application/json", "application/octet-stream")
HTTP_REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
                415: "Unsupported Media Type", 422: "Unprocessable Entity", 500: "Internal Server Error"}


class RegistryResponse(JSONResponse):
    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def _error(status: int, code: int, message: str) -> RegistryResponse:
    return RegistryResponse({"error_code": code, "message": message}, status_code=status)


def _flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    return default if raw is None else raw.strip().lower() == "true"


async def _body(request: Request) -> dict:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in ACCEPTED_TYPES:
        raise RestError(415, 415, "HTTP 415 Unsupported Media Type")
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError) as e:
        raise RestError(400, 400, f"Unrecognized token: {e}") from None
    if not isinstance(body, dict):
        raise RestError(422, 422, "Unrecognized request body: a JSON object is expected")
    return body


def _schema_request(body: dict) -> SchemaRequest:
    text = body.get("schema")
    if text is None or text == "":
        raise RestError(422, 42201, "Empty schema")
    if not isinstance(text, str):
        raise RestError(422, 422, "Unrecognized field: schema must be a string")
    schema_type = body.get("schemaType") or "AVRO"
    if not isinstance(schema_type, str) or schema_type.upper() not in SCHEMA_TYPES:
        raise RestError(422, 42201, f"Invalid schema type {schema_type}")
    refs = []
    for r in body.get("references") or ():
        try:
            refs.append(Reference(str(r["name"]), str(r["subject"]), int(r["version"])))
        except (KeyError, TypeError, ValueError):
            raise RestError(422, 42201, f"Invalid schema reference {r}") from None
    schema_id, version = body.get("id"), body.get("version")
    for name, value in (("id", schema_id), ("version", version)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise RestError(422, 422, f"Invalid {name} {value}")
    return SchemaRequest(text, schema_type.upper(), tuple(refs), schema_id, version)


def _version_json(subject: str, version: int, schema_id: int, schema_json: dict) -> dict:
    return {"subject": subject, "version": version, "id": schema_id, **schema_json}


def _writes(method: str, path: str) -> bool:
    """Requests that change the registry: only the primary serves them; the others forward them."""
    if method == "POST":
        return bool(_REGISTER.fullmatch(path))
    return method in ("PUT", "DELETE") and path.startswith(("/subjects/", "/config", "/mode"))


_REGISTER = re.compile(r"/subjects/[^/]+/versions/?")


def _forward(url: str, method: str, body: bytes, headers: dict[str, str],
             tls: ssl.SSLContext | None) -> tuple[int, bytes, str]:
    """The request as the primary should see it: its body, Content-Type and Authorization (Confluent's
    forwarding passes the caller's credentials on)."""
    req = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30, context=tls) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", MEDIA_TYPE)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", MEDIA_TYPE)


def create_app(registry: Registry, elector: LeaderElector | None = None,
               forward_tls: ssl.SSLContext | None = None) -> FastAPI:
    app = FastAPI(title="Brook Schema Registry", openapi_url=None, docs_url=None, redoc_url=None,
                  default_response_class=RegistryResponse)
    state = registry.state

    @app.middleware("http")
    async def forward_writes(request: Request, call_next: Callable) -> Response:
        if elector is None or elector.is_primary or not _writes(request.method, request.url.path):
            return await call_next(request)
        primary = elector.primary_url
        if primary is None:
            return _error(500, 50004, "Leader not known.")
        target = primary + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()
        headers = {k: v for k, v in (("Content-Type", request.headers.get("content-type")),
                                     ("Authorization", request.headers.get("authorization"))) if v}
        try:
            status, content, ctype = await asyncio.to_thread(_forward, target, request.method, body, headers,
                                                             forward_tls)
        except OSError as e:
            return _error(500, 50003, f"Error while forwarding the request to the leader {primary}: {e}")
        return Response(content, status_code=status, media_type=ctype)

    async def off_loop(fn: Callable, *args: Any) -> Any:
        """Parsing (protoc), compatibility and writes run off the event loop."""
        return await asyncio.to_thread(fn, *args)

    @app.exception_handler(RestError)
    async def rest_error(request: Request, exc: RestError) -> RegistryResponse:
        return _error(exc.status, exc.error_code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> RegistryResponse:
        status = exc.status_code
        return _error(status, status, f"HTTP {status} {HTTP_REASONS.get(status, exc.detail)}")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> RegistryResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("loc", ("",))[0] == "path":  # JAX-RS answers a path parameter it cannot convert with 404
            return _error(404, 404, "HTTP 404 Not Found")
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(422, 422, f"Invalid parameter {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> RegistryResponse:
        log.exception("Unhandled error answering %s %s", request.method, request.url.path)
        return _error(500, 50001, f"Error in the backend data store: {exc}")

    # --- root, types, schemas by id

    @app.get("/")
    async def root() -> dict:
        return {}

    @app.get("/schemas/types")
    async def schema_types() -> list:
        return list(SCHEMA_TYPES)

    def schema_by_id(schema_id: int):  # noqa: ANN202 - a Schema
        with registry.store.lock:
            schema = state.schemas.get(schema_id)
            used = schema is not None and bool(state.uses_of(schema_id, deleted=True))
        if not used:
            raise errors.schema_not_found(schema_id)
        return schema

    @app.get("/schemas/ids/{schema_id}")
    async def get_schema(schema_id: int, request: Request) -> dict:
        schema = schema_by_id(schema_id)
        out = schema.to_json()
        if request.query_params.get("format") == "serialized" and schema.schema_type == "PROTOBUF":
            parsed = await off_loop(registry.parse, schema)
            out["schema"] = protobuf.serialized(parsed.obj)
        if _flag(request, "fetchMaxId"):
            with registry.store.lock:
                out["maxId"] = state.max_id
        return out

    @app.get("/schemas/ids/{schema_id}/schema")
    async def get_raw_schema(schema_id: int) -> Response:
        return Response(schema_by_id(schema_id).text, media_type=MEDIA_TYPE)

    @app.get("/schemas/ids/{schema_id}/subjects")
    async def get_schema_subjects(schema_id: int, request: Request) -> list:
        schema_by_id(schema_id)
        with registry.store.lock:
            uses = state.uses_of(schema_id, deleted=_flag(request, "deleted"))
        return sorted({v.subject for v in uses})

    @app.get("/schemas/ids/{schema_id}/versions")
    async def get_schema_versions(schema_id: int, request: Request) -> list:
        schema_by_id(schema_id)
        with registry.store.lock:
            uses = state.uses_of(schema_id, deleted=_flag(request, "deleted"))
        return [{"subject": v.subject, "version": v.version} for v in uses]

    @app.get("/schemas")
    async def list_schemas(request: Request) -> list:
        prefix = request.query_params.get("subjectPrefix", "")
        deleted, latest_only = _flag(request, "deleted"), _flag(request, "latestOnly")
        out = []
        with registry.store.lock:
            for subject in state.subject_names(deleted):
                if not subject.startswith(prefix):
                    continue
                versions = state.versions(subject, deleted)
                for v in versions[-1:] if latest_only else versions:
                    out.append(_version_json(subject, v.version, v.schema_id, state.schemas[v.schema_id].to_json()))
        return out

    # --- subjects

    @app.get("/subjects")
    async def list_subjects(request: Request) -> list:
        prefix = request.query_params.get("subjectPrefix", "")
        with registry.store.lock:
            if _flag(request, "deleted_only"):
                names = sorted(set(state.subject_names(True)) - set(state.subject_names(False)))
            else:
                names = state.subject_names(_flag(request, "deleted"))
        return [s for s in names if s.startswith(prefix)]

    @app.get("/subjects/{subject}/versions")
    async def list_versions(subject: str, request: Request) -> list:
        with registry.store.lock:
            every = state.versions(subject, deleted=True)
            if _flag(request, "deleted_only"):
                chosen = [v for v in every if v.deleted]
            else:
                chosen = state.versions(subject, deleted=_flag(request, "deleted"))
        if not every or (not chosen and not _flag(request, "deleted_only")):
            raise errors.subject_not_found(subject)
        return [v.version for v in chosen]

    @app.post("/subjects/{subject}/versions")
    async def register(subject: str, request: Request) -> dict:
        req = _schema_request(await _body(request))
        return {"id": await off_loop(registry.register, subject, req)}

    @app.get("/subjects/{subject}/versions/{version}")
    async def get_version(subject: str, version: str, request: Request) -> dict:
        v = registry.version(subject, version, deleted=_flag(request, "deleted"))
        schema = registry.schema_of(v)
        out = _version_json(subject, v.version, v.schema_id, schema.to_json())
        if request.query_params.get("format") == "serialized" and schema.schema_type == "PROTOBUF":
            out["schema"] = protobuf.serialized((await off_loop(registry.parse, schema)).obj)
        return out

    @app.get("/subjects/{subject}/versions/{version}/schema")
    async def get_version_schema(subject: str, version: str, request: Request) -> Response:
        v = registry.version(subject, version, deleted=_flag(request, "deleted"))
        return Response(registry.schema_of(v).text, media_type=MEDIA_TYPE)

    @app.get("/subjects/{subject}/versions/{version}/referencedby")
    async def referenced_by(subject: str, version: str) -> list:
        v = registry.version(subject, version, deleted=True)
        with registry.store.lock:
            return state.referenced_by(subject, v.version)

    @app.delete("/subjects/{subject}/versions/{version}")
    async def delete_version(subject: str, version: str, request: Request) -> int:
        return await off_loop(registry.delete_version, subject, version, _flag(request, "permanent"))

    @app.post("/subjects/{subject}")
    async def lookup(subject: str, request: Request) -> dict:
        req = _schema_request(await _body(request))
        v, schema = await off_loop(registry.lookup, subject, req, _flag(request, "deleted"))
        return _version_json(subject, v.version, v.schema_id, schema.to_json())

    @app.delete("/subjects/{subject}")
    async def delete_subject(subject: str, request: Request) -> list:
        return await off_loop(registry.delete_subject, subject, _flag(request, "permanent"))

    # --- compatibility

    async def compatibility(subject: str, version: str | None, request: Request) -> dict:
        req = _schema_request(await _body(request))
        messages = await off_loop(registry.check_compatibility, subject, version, req)
        out: dict = {"is_compatible": not messages}
        if _flag(request, "verbose"):
            out["messages"] = messages
        return out

    @app.post("/compatibility/subjects/{subject}/versions/{version}")
    async def check_version(subject: str, version: str, request: Request) -> dict:
        return await compatibility(subject, version, request)

    @app.post("/compatibility/subjects/{subject}/versions")
    async def check_all(subject: str, request: Request) -> dict:
        return await compatibility(subject, None, request)

    # --- config

    @app.get("/config")
    async def get_config() -> dict:
        return {"compatibilityLevel": registry.compatibility(None)}

    @app.put("/config")
    async def put_config(request: Request) -> dict:
        level = (await _body(request)).get("compatibility")
        return {"compatibility": await off_loop(registry.set_compatibility, None, level)}

    @app.delete("/config")
    async def delete_config() -> dict:
        return {"compatibilityLevel": await off_loop(registry.delete_compatibility, None)}

    def subject_setting(table: dict, subject: str, request: Request, missing: Callable[[str], RestError],
                        default: Callable[[None], str]) -> str:
        """A subject's own level or mode; the global one with defaultToGlobal=true, else `missing`."""
        with registry.store.lock:
            value = table.get(subject)
        if value is None:
            if not _flag(request, "defaultToGlobal"):
                raise missing(subject)
            value = default(None)
        return value

    @app.get("/config/{subject}")
    async def get_subject_config(subject: str, request: Request) -> dict:
        return {"compatibilityLevel": subject_setting(state.configs, subject, request,
                                                      errors.subject_compatibility_not_configured,
                                                      registry.compatibility)}

    @app.put("/config/{subject}")
    async def put_subject_config(subject: str, request: Request) -> dict:
        level = (await _body(request)).get("compatibility")
        return {"compatibility": await off_loop(registry.set_compatibility, subject, level)}

    @app.delete("/config/{subject}")
    async def delete_subject_config(subject: str) -> dict:
        return {"compatibilityLevel": await off_loop(registry.delete_compatibility, subject)}

    # --- mode

    @app.get("/mode")
    async def get_mode() -> dict:
        return {"mode": registry.mode(None)}

    @app.put("/mode")
    async def put_mode(request: Request) -> dict:
        mode = (await _body(request)).get("mode")
        return {"mode": await off_loop(registry.set_mode, None, mode, _flag(request, "force"))}

    @app.get("/mode/{subject}")
    async def get_subject_mode(subject: str, request: Request) -> dict:
        return {"mode": subject_setting(state.modes, subject, request, errors.subject_mode_not_configured,
                                        registry.mode)}

    @app.put("/mode/{subject}")
    async def put_subject_mode(subject: str, request: Request) -> dict:
        mode = (await _body(request)).get("mode")
        return {"mode": await off_loop(registry.set_mode, subject, mode, _flag(request, "force"))}

    @app.delete("/mode/{subject}")
    async def delete_subject_mode(subject: str) -> dict:
        return {"mode": await off_loop(registry.delete_mode, subject)}

    return app
