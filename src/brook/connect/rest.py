"""Connect's REST API (ConnectorsResource, ConnectorPluginsResource, RootResource, LoggingResource) on FastAPI.

Every error body is Connect's {"error_code": N, "message": ...}: Kafka's texts for unknown connectors (404),
existing ones (409) and invalid configs (400); unknown paths and methods get Jersey's "HTTP 404 Not Found" and
"HTTP 405 Method Not Allowed". Herder calls run on worker threads so a stopping task never blocks the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from brook.connect.api import VERSION
from brook.connect.herder import RestError

log = logging.getLogger("org.apache.kafka.connect.runtime.rest.errors.ConnectExceptionMapper")
LEVELS = {"WARNING": "WARN", "CRITICAL": "FATAL", "NOTSET": "INFO"}


def error(status: int, message: str | None) -> JSONResponse:
    return JSONResponse({"error_code": status, "message": message}, status_code=status)


def create_app(herder, cluster_id: str, commit: str = "unknown") -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(RestError)
    async def rest_error(_request, exc: RestError):
        return error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        texts = {404: "HTTP 404 Not Found", 405: "HTTP 405 Method Not Allowed"}
        return error(exc.status_code, texts.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.error("Uncaught exception in REST call to %s", request.url.path, exc_info=exc)
        return error(500, str(exc) or None)

    async def call(fn, *args):
        return await asyncio.to_thread(fn, *args)

    async def body(request: Request) -> dict:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw else None
        except ValueError as e:
            raise RestError(500, f"Unrecognized token: {e}") from None
        if not isinstance(data, dict):
            raise RestError(500, "Cannot deserialize value: the request body must be a JSON object")
        return data

    @app.get("/")
    async def root():
        return {"version": VERSION, "commit": commit, "kafka_cluster_id": cluster_id}

    @app.get("/health")
    async def health():
        """KIP-1017: starting (503) until the worker has created the connectors of its command line."""
        if not herder.ready:
            return JSONResponse({"status": "starting", "message": "Worker is still starting up."}, status_code=503)
        return {"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}

    @app.get("/connectors")
    async def list_connectors(request: Request):
        names = herder.connector_names()
        expand = request.query_params.getlist("expand")
        if not expand:
            return names
        out = {}
        for n in names:
            entry = {}
            try:
                for e in expand:
                    if e == "status":
                        entry["status"] = herder.connector_status(n)
                    elif e == "info":
                        entry["info"] = herder.info(n)
            except RestError:
                continue
            out[n] = entry
        return out

    @app.post("/connectors")
    async def create(request: Request):
        data = await body(request)
        name = (data.get("name") or "").strip()
        config = data.get("config")
        if not isinstance(config, dict):
            raise RestError(500, "Cannot deserialize value: config must be a JSON object")
        config = {k: None if v is None else str(v) for k, v in config.items()}
        check_name(name, config)
        state = data.get("initial_state")
        if state is not None and state not in ("RUNNING", "PAUSED", "STOPPED"):
            raise RestError(400, f"Invalid initial state {state}")
        _, info = await call(herder.put_connector_config, name, config, False,
                             "STARTED" if state == "RUNNING" else state)
        return JSONResponse(info, status_code=201, headers={"Location": f"/connectors/{name}"})

    def check_name(name: str, config: dict) -> None:
        included = config.get("name")
        if included is not None:
            if included != name:
                raise RestError(400, f"Connector name configuration ({included}) doesn't match connector name in "
                                     f"the URL ({name})")
        else:
            config["name"] = name

    @app.get("/connectors/{name}")
    async def get_connector(name: str):
        return herder.info(name)

    @app.get("/connectors/{name}/config")
    async def get_config(name: str):
        return herder.info(name)["config"]

    @app.put("/connectors/{name}/config")
    async def put_config(name: str, request: Request):
        config = {k: None if v is None else str(v) for k, v in (await body(request)).items()}
        check_name(name, config)
        created, info = await call(herder.put_connector_config, name, config, True)
        if created:
            return JSONResponse(info, status_code=201, headers={"Location": f"/connectors/{name}"})
        return info

    @app.patch("/connectors/{name}/config")
    async def patch_config(name: str, request: Request):
        patch = await body(request)
        config = dict(herder.info(name)["config"])
        for k, v in patch.items():
            if v is None:
                config.pop(k, None)
            else:
                config[k] = str(v)
        _, info = await call(herder.put_connector_config, name, config, True)
        return info

    @app.get("/connectors/{name}/status")
    async def status(name: str):
        return herder.connector_status(name)

    @app.get("/connectors/{name}/tasks")
    async def tasks(name: str):
        return herder.tasks(name)

    @app.get("/connectors/{name}/tasks/{task}/status")
    async def task_status(name: str, task: int):
        return herder.one_task_status(name, task)

    @app.post("/connectors/{name}/tasks/{task}/restart")
    async def restart_task(name: str, task: int, request: Request):
        await call(herder.restart_task, name, task, request.headers.get("authorization"))
        return Response(status_code=204)

    @app.post("/connectors/{name}/restart")
    async def restart(name: str, includeTasks: str = "false", onlyFailed: str = "false"):  # noqa: N803
        report = await call(herder.restart, name, includeTasks.lower() == "true", onlyFailed.lower() == "true")
        if report is None:
            return Response(status_code=204)
        return JSONResponse(report, status_code=202)

    @app.put("/connectors/{name}/pause")
    async def pause(name: str):
        await call(herder.set_target, name, "PAUSED")
        return Response(status_code=202)

    @app.put("/connectors/{name}/resume")
    async def resume(name: str):
        await call(herder.set_target, name, "STARTED")
        return Response(status_code=202)

    @app.put("/connectors/{name}/stop")
    async def stop(name: str):
        await call(herder.set_target, name, "STOPPED")
        return Response(status_code=204)

    @app.delete("/connectors/{name}")
    async def delete(name: str):
        await call(herder.delete, name)
        return Response(status_code=204)

    def tracking(reset: bool = False) -> None:
        if not herder.worker.config["topic.tracking.enable"]:
            raise RestError(403, "Topic tracking is disabled.")
        if reset and not herder.worker.config["topic.tracking.allow.reset"]:
            raise RestError(403, "Topic tracking reset is disabled.")

    @app.get("/connectors/{name}/topics")
    async def active_topics(name: str):
        tracking()
        return herder.active_topics(name)

    @app.put("/connectors/{name}/topics/reset")
    async def reset_topics(name: str):
        tracking(reset=True)
        await call(herder.reset_topics, name)
        return Response(status_code=202)

    @app.get("/connectors/{name}/offsets")
    async def get_offsets(name: str):
        return await call(herder.get_offsets, name)

    @app.patch("/connectors/{name}/offsets")
    async def alter_offsets(name: str, request: Request):
        offsets = (await body(request)).get("offsets")
        if not offsets:
            raise RestError(400, "Partitions / offsets need to be provided for an alter offsets request")
        return await call(herder.modify_offsets, name, offsets)

    @app.delete("/connectors/{name}/offsets")
    async def reset_offsets(name: str):
        return await call(herder.modify_offsets, name, None)

    @app.get("/connector-plugins")
    async def plugins(connectorsOnly: str = "true"):  # noqa: N803
        return herder.plugins.infos(connectorsOnly.lower() != "false")

    @app.get("/connector-plugins/{plugin}/config")
    async def plugin_config(plugin: str):
        keys = herder.plugins.config_keys(plugin)
        if keys is None:
            raise RestError(404, f"Unknown plugin {plugin}.")
        return keys

    @app.put("/connector-plugins/{plugin}/config/validate")
    async def validate(plugin: str, request: Request):
        config = {k: None if v is None else str(v) for k, v in (await body(request)).items()}
        included = config.get("connector.class")
        if included is not None and not norm(included).endswith(norm(plugin)):
            raise RestError(400, f"Included connector type {included} does not match request type {plugin}")
        return await call(herder.validate, config)

    def norm(name: str) -> str:
        return name[:-len("Connector")] if name.endswith("Connector") else name

    modified: dict[str, int] = {}  # last_modified of the loggers set through this API (KIP-976)

    def level_info(name: str) -> dict:
        lg = logging.getLogger() if name == "root" else logging.getLogger(name)
        return {"level": level_name(lg.getEffectiveLevel()), "last_modified": modified.get(name)}

    @app.get("/admin/loggers")
    async def loggers():
        out = {"root": level_info("root")}
        for name in sorted(logging.root.manager.loggerDict):
            lg = logging.getLogger(name)
            if lg.level:
                out[name] = level_info(name)
        return out

    @app.get("/admin/loggers/{name}")
    async def get_logger(name: str):
        if name != "root" and name not in logging.root.manager.loggerDict:
            raise RestError(404, f"Logger {name} not found.")
        return level_info(name)

    @app.put("/admin/loggers/{name}")
    async def set_logger(name: str, request: Request, scope: str = "worker"):
        data = await body(request)
        level = data.get("level")
        if level is None:
            raise RestError(400, "Desired 'level' parameter was not specified in request.")
        py = {"WARN": "WARNING", "FATAL": "CRITICAL", "TRACE": "DEBUG", "ALL": "DEBUG", "OFF": "CRITICAL"}.get(
            str(level).upper(), str(level).upper())
        if py not in logging.getLevelNamesMapping():
            raise RestError(404, f"invalid log level '{level}'.")
        changed = []
        now = int(time.time() * 1000)
        for n in ["root"] + sorted(logging.root.manager.loggerDict):
            if name == "root" or n == name or n.startswith(name + "."):
                (logging.getLogger() if n == "root" else logging.getLogger(n)).setLevel(py)
                modified[n] = now
                changed.append(n)
        if name not in changed:
            logging.getLogger(name).setLevel(py)
            modified[name] = now
            changed.append(name)
        if scope.lower() == "cluster":
            return Response(status_code=204)
        return changed

    return app


def level_name(level: int) -> str:
    name = logging.getLevelName(level)
    return LEVELS.get(name, name)
