"""/status and /status/{type}/{entity}/{action}: the status of each command this server ran or replayed from the
command topic (ksqlDB's StatusResource), by the commandId /ksql answered with."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi.responses import Response

if TYPE_CHECKING:
    from fastapi import FastAPI

    from brook.sql.engine import Engine

# ksqlDB's CommandId.Type and CommandId.Action
TYPES = ("TOPIC", "STREAM", "TABLE", "CLUSTER", "PAUSE", "RESUME", "TERMINATE", "TYPE")
ACTIONS = ("CREATE", "DROP", "EXECUTE", "TERMINATE", "ALTER")


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json")


def add_routes(app: FastAPI, engine: Engine) -> None:
    @app.get("/status")
    async def all_statuses() -> Response:
        return _json({"commandStatuses": {cid: s["status"] for cid, s in list(engine.statuses.items())}})

    @app.get("/status/{kind}/{entity}/{action}")
    async def status(kind: str, entity: str, action: str) -> Response:
        # the type and action are Java enum constants in ksqlDB: another word is its valueOf's error (a 500)
        for word, names, enum in ((kind, TYPES, "Type"), (action, ACTIONS, "Action")):
            if word.upper() not in names:
                return _json({"@type": "generic_error", "error_code": 50000, "message":
                              f"No enum constant io.confluent.ksql.rest.entity.CommandId.{enum}.{word.upper()}"},
                             500)
        found = engine.statuses.get(f"{kind.lower()}/{entity}/{action.lower()}")
        if found is None:
            return _json({"@type": "generic_error", "error_code": 40400, "message": "Command not found"}, 404)
        return _json(found)
