"""The lambda functions' typing: which types a lambda's parameters take (an array's element; a map's key and value;
REDUCE's state first), how many parameters each lambda must have, and the result types ksqlDB gives
TRANSFORM, FILTER and REDUCE (query-validation-tests/transform-array.json, transform-map.json, filter.json,
reduce-array.json, reduce-map.json, complex-lambda.json)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from brook.sql.functions_base import reject

if TYPE_CHECKING:
    from brook.sql.expressions import Compiler


def _shown(compiler: Compiler, args: list) -> list:
    """The argument types as ksqlDB's message prints them (a lambda as LAMBDA)."""
    return [("LAMBDA",) if a[0] == "lambda" else compiler.type_of(a) for a in args]


def _plan(compiler: Compiler, name: str, args: list) -> tuple[tuple | None, list[tuple[int, list]]]:
    """The collection's type and, for each lambda argument, its index and its parameters' types."""
    lambdas = [i for i, a in enumerate(args) if a[0] == "lambda"]
    coll = compiler.type_of(args[0]) if args and args[0][0] != "lambda" else None
    is_map = coll is not None and coll[0] == "MAP"
    is_array = coll is not None and coll[0] == "ARRAY"
    params: list = [coll[1], coll[2]] if coll and is_map else [coll[1]] if coll and is_array else []
    if name == "REDUCE":
        state = compiler.type_of(args[1]) if len(args) == 3 and args[1][0] != "lambda" else None
        params = [state, *params]
    count = 2 if name == "TRANSFORM" and is_map else 1
    total = 3 if name == "REDUCE" else 1 + count
    if not (is_map or is_array) or len(args) != total or lambdas != list(range(total - count, total)):
        raise reject(name, _shown(compiler, args))
    for i in lambdas:
        if len(args[i][1]) != len(params):
            raise reject(name, _shown(compiler, args))
    return coll, [(i, params) for i in lambdas]


def result_type(compiler: Compiler, name: str, args: list) -> tuple | None:
    coll, plan = _plan(compiler, name, args)
    bodies = [compiler.scoped(args[i][1], types).type_of(args[i][2]) for i, types in plan]
    if name == "FILTER":
        if bodies[0] is not None and bodies[0][0] != "BOOLEAN":
            raise reject(name, _shown(compiler, args))
        return coll
    if name == "REDUCE":
        return compiler.type_of(args[1]) or bodies[0]
    if coll is not None and coll[0] == "MAP":
        return ("MAP", bodies[0], bodies[1])
    return ("ARRAY", bodies[0])


def compile_args(compiler: Compiler, name: str, args: list) -> list[Callable[[dict], Any]]:
    _, plan = _plan(compiler, name, args)
    types = dict(plan)
    return [compiler.lambda_fn(a, types[i]) if i in types else compiler.compile(a) for i, a in enumerate(args)]
