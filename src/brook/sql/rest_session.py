"""The statements of a /ksql request that live in its session, as ksqlDB's server runs them (CustomExecutors):
DEFINE / UNDEFINE set the request's variables for its later statements (`${name}` substituted before each is
parsed), SHOW VARIABLES lists them, DESCRIBE FUNCTION describes a built-in function; RUN SCRIPT is the CLI's
own command, which ksqlDB's server grammar does not know (a syntax error)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brook.sql.expressions import SqlError
from brook.sql.functions import AGGREGATES, SCALARS
from brook.sql.parser import SetProperty, UnsetProperty, parse, type_str, unknown_statement
from brook.sql.queries import TABLE_FUNCTIONS

if TYPE_CHECKING:
    from brook.sql.engine import Engine

_DEFINE = re.compile(r"DEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^']|'')*)'\s*;", re.I | re.S)
_UNDEFINE = re.compile(r"UNDEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.I | re.S)
_VARIABLES = re.compile(r"(?:SHOW|LIST)\s+VARIABLES\s*;", re.I | re.S)
_DESCRIBE_FUNCTION = re.compile(r"DESCRIBE\s+FUNCTION\s+(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)\s*;", re.I | re.S)
_RUN_SCRIPT = re.compile(r"RUN\s+SCRIPT\b", re.I)
_SESSION = re.compile(r"\b(DEFINE|UNDEFINE|VARIABLES|FUNCTION|RUN)\b|\$\{", re.I)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# ksqlDB's ParamType names for Brook's column types
_PARAM = {"STRING": "VARCHAR", "INTEGER": "INT"}


def _param(t: Any) -> str:
    if not isinstance(t, tuple):
        return "ANY"
    if t[0] == "ARRAY":
        return f"ARRAY<{_param(t[1])}>"
    if t[0] == "MAP":
        return f"MAP<{_param(t[1])}, {_param(t[2])}>"
    return _PARAM.get(t[0], type_str(t))


def _returns(result: Any, kinds: tuple, count: int) -> str:
    """A scalar's return type: fixed, or worked out from the argument kinds the registry checks (ANY if unknown)."""
    if not callable(result):
        return _param(result)
    types = [(k,) if k not in (None, "NUM", "ARRAY", "MAP") else None for k in (*kinds, *[None] * count)[:count]]
    try:
        return _param(result(types))
    except (IndexError, TypeError):
        return "ANY"


@functools.cache
def _function_docs() -> dict[str, dict]:
    """ksqlDB 0.29's descriptions of its built-in functions (scripts/gen_function_docs.py wrote them from its UDF
    annotations): per function its type, description, author, version and typed variants."""
    return dict(json.loads((Path(__file__).parent / "function_docs.json").read_text()))


def describe_function(text: str, name: str) -> dict:
    """FunctionDescriptionList (DescribeFunctionExecutor): ksqlDB's own description of the function, else (a
    function ksqlDB 0.29 does not have) one variant per argument count from Brook's registry, typed as far as the
    registry checks the arguments."""
    upper = name[1:-1] if name.startswith("`") else name.upper()
    entity = {"@type": "describe_function", "statementText": text, "name": upper}
    if upper in AGGREGATES or upper in TABLE_FUNCTIONS or upper in SCALARS:
        doc = _function_docs().get(upper)
        if doc is not None:
            return {**entity, "description": doc["description"], "author": doc["author"], "version": doc["version"],
                    "path": "internal", "functions": doc["functions"], "type": doc["type"], "warnings": []}
    kinds: tuple[str | None, ...] = ()
    returns: Any
    if upper in AGGREGATES:
        kind, variants, returns = "AGGREGATE", [(1, 1)], "ANY"
    elif upper in TABLE_FUNCTIONS:
        kind, variants, returns, kinds = "TABLE", [(1, 1)], "ANY", ("ARRAY",)
    elif upper in SCALARS:
        entry = SCALARS[upper]
        (low, high), kinds = entry.arity, entry.kinds
        kind, returns = "SCALAR", entry.result
        variants = [(low, high)] if high >= 99 else [(n, n) for n in range(low, high + 1)]
    else:
        raise SqlError(f"Can't find any functions with the name '{upper}'")
    functions = []

    def arg_type(i: int) -> str:
        # the argument kinds the registry checks (functions_base.Fn.kinds); ANY where it takes any type
        k = kinds[i] if i < len(kinds) else None
        return "ANY" if k in (None, "NUM", "ARRAY", "MAP") else _param((k,))
    for low, high in variants:
        args = [{"name": f"arg{i + 1}", "type": arg_type(i), "description": "", "isVariadic": False}
                for i in range(low)]
        if high >= 99:
            args.append({"name": f"arg{low + 1}", "type": arg_type(low), "description": "", "isVariadic": True})
        functions.append({"arguments": args, "returnType": returns if kind != "SCALAR" else
                          _returns(returns, kinds, low), "description": ""})
    return {**entity, "description": "", "author": "", "version": "", "path": "internal", "functions": functions,
            "type": kind, "warnings": []}


def _substitute(text: str, variables: dict[str, str]) -> str:
    lower = {k.lower(): v for k, v in variables.items()}
    return _VAR.sub(lambda m: lower.get(m[1].lower(), m[0]), text)


def execute(engine: Engine, text: str, props: dict[str, Any], session_variables: dict[str, Any] | None) -> list[dict]:
    """A /ksql request's statements in order; the session statements here, the rest by the engine. Every statement
    is parsed (after its variables are substituted) before any runs, as ksqlDB parses a request whole."""
    from brook.sql.cli import split_statements
    from brook.sql.engine import StatementError

    variables = {str(k): "" if v is None else str(v) for k, v in (session_variables or {}).items()}
    if not variables and not _SESSION.search(text):
        return engine.execute(text, props)
    flag = props.get("ksql.variable.substitution.enable", engine.config.get("ksql.variable.substitution.enable"))
    substituting = str(flag).strip().lower() != "false"  # ksqlDB's default: true
    statements, rest = split_statements(text)
    if rest.strip():
        statements.append(rest.strip())
    steps: list[tuple[str, Any]] = []  # ("sql", text) | ("entity", dict | None)
    for raw in statements:
        stmt = _substitute(raw, variables) if substituting else raw
        if m := _DEFINE.fullmatch(stmt):
            for same in [k for k in variables if k.lower() == m[1].lower()]:
                del variables[same]
            variables[m[1]] = m[2].replace("''", "'")
            steps.append(("entity", None))
        elif m := _UNDEFINE.fullmatch(stmt):
            known = [k for k in variables if k.lower() == m[1].lower()]
            for k in known:
                del variables[k]
            steps.append(("entity", None if known else {
                "@type": "warning_entity", "statementText": stmt,
                "message": f"Cannot undefine variable '{m[1]}' which was never defined", "warnings": []}))
        elif _VARIABLES.fullmatch(stmt):
            steps.append(("entity", {"@type": "variables", "statementText": stmt, "variables": [
                {"name": k, "value": v} for k, v in sorted(variables.items())], "warnings": []}))
        elif m := _DESCRIBE_FUNCTION.fullmatch(stmt):
            steps.append(("function", (stmt, m[1])))
        elif _RUN_SCRIPT.match(stmt):
            raise unknown_statement(stmt.split()[0])
        else:
            nodes = [p.node for p in parse(stmt)]  # a syntax error anywhere fails the request before anything runs
            steps.append(("sql", (stmt, nodes)))
    entities: list[dict] = []
    props = dict(props)
    for kind, value in steps:
        if kind == "sql":
            entities += engine.execute(value[0], props)
            for node in value[1]:  # SET and UNSET hold for the rest of the request, as within one execute
                if isinstance(node, SetProperty):
                    props[node.name] = node.value
                elif isinstance(node, UnsetProperty):
                    props.pop(node.name, None)
        elif kind == "function":
            try:
                entities.append(describe_function(*value))
            except SqlError as e:
                raise StatementError(40001, str(e), value[0]) from None
        elif value is not None:
            entities.append(value)
    return entities


def session_variables(raw: bytes) -> dict[str, Any]:
    """The request's "sessionVariables" (KsqlRequest), if any."""
    import json

    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    found = body.get("sessionVariables") if isinstance(body, dict) else None
    return found if isinstance(found, dict) else {}
