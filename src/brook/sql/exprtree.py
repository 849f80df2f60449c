"""SQL expression trees as the parser builds them (tuples): walking and rewriting them, printing them as ksqlDB's
ExpressionFormatter does, the names ksqlDB generates for unaliased columns, and its checks of the columns a
query names (expressions.py compiles the trees)."""

from __future__ import annotations

import re
from typing import Any

from brook.sql.parser import position, type_str


class SqlError(Exception):
    """A statement that parses but cannot run (ksqlDB's KsqlStatementException): error 40001."""


def rewrite(e: Any, fn: Any) -> Any:
    """`e` with every sub-expression for which fn returns something replaced by that."""
    r = fn(e)
    if r is not None:
        return r
    if isinstance(e, tuple):
        return tuple(rewrite(x, fn) if isinstance(x, (tuple, list)) else x for x in e)
    if isinstance(e, list):
        return [rewrite(x, fn) for x in e]
    return e


def unqualified(e: Any) -> Any:
    return rewrite(e, lambda x: ("col", None, x[2]) if isinstance(x, tuple) and x[:1] == ("col",) else None)


def column_refs(e: Any) -> list[tuple]:
    """Every ("col", qualifier, name) in `e`."""
    found: list[tuple] = []

    def visit(x: Any) -> None:
        if isinstance(x, tuple) and x[:1] == ("col",):
            found.append(x)

    rewrite(e, visit)
    return found


SYNTHETIC_KEY = re.compile(r"ROWKEY(_\d+)?")
_BOUNDS = ("WINDOWSTART", "WINDOWEND")


def unknown_column(clause: str, ref: Any) -> SqlError:
    """ksqlDB's UnknownColumnException: the clause naming the column leads (none for a join's synthetic key)."""
    text = expr_text(ref)
    message = f"{position(ref)}{clause + ' column' if clause else 'Column'} '{text}' cannot be resolved."
    if clause == "PARTITION BY":  # ksqlDB's Analyzer: PARTITION BY is applied on the input
        message += f" '{text}' must be a column in the source schema since PARTITION BY is applied on the input."
    return SqlError(message)


def check_columns(compiler: Any, query: Any, synthetic: bool = False) -> None:
    """ksqlDB's ColumnReferenceValidator: the columns each clause names, clause by clause (WHERE, GROUP BY,
    PARTITION BY, HAVING, SELECT), before the query is planned further. With `synthetic` (a join that is no
    aggregate), an unqualified SELECT name that may be the join's synthetic key (ROWKEY, ROWKEY_<n>) gets the
    projection's message, naming no clause; an unqualified window bound that several sources have is unknown
    (ksqlDB issue 5931)."""
    clauses = (("WHERE", [query.where]), ("GROUP BY", query.group_by or []),
               ("PARTITION BY", query.partition_by or []), ("HAVING", [query.having]),
               ("SELECT", [i[1] for i in query.items if i[0] == "expr"]))
    for clause, exprs in clauses:
        for ref in (r for e in exprs if e is not None for r in column_refs(e)):
            try:
                compiler.column(ref[1], ref[2])
            except SqlError as err:
                bound = ref[1] is None and ref[2] in _BOUNDS and "is ambiguous" in str(err)
                if "cannot be resolved" not in str(err) and not bound:
                    raise
                if synthetic and clause == "SELECT" and ref[1] is None and SYNTHETIC_KEY.fullmatch(ref[2]):
                    clause = ""
                raise unknown_column(clause, ref) from None


SYSTEM_COLUMNS = ("ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND")


def check_reserved(query: Any) -> None:
    """ksqlDB's Analyzer.checkForReservedToken, for persistent queries only (their SELECT builds a sink's columns):
    a column named as a pseudo column or window bound must be aliased to another name."""
    for item in query.items:
        if item[0] != "expr":
            continue
        expr, alias = item[1], item[2]
        name = alias or (expr[2] if expr[0] == "col" else None)
        if name not in SYSTEM_COLUMNS:
            continue
        if expr[0] == "col" and expr[2] == name:
            raise SqlError(f"Reserved column name in select: `{name}`. Please remove or alias the column.")
        raise SqlError(f"`{name}` is a reserved column name. You cannot use it as an alias for a column.")


def columns_of(e: Any) -> set[str]:
    return {c[2] for c in column_refs(e)}


def expr_text(e: Any) -> str:
    kind = e[0]
    if kind == "col":
        return e[2] if e[1] is None else f"{e[1]}.{e[2]}"
    if kind == "lit":  # as ksqlDB's ExpressionFormatter: 'text', null, true
        if isinstance(e[1], str):
            return "'" + e[1].replace("'", "''") + "'"
        return "null" if e[1] is None else str(e[1]).lower() if isinstance(e[1], bool) else str(e[1])
    if kind == "call":
        return f"{e[1]}({', '.join('*' if a[0] == 'star' else expr_text(a) for a in e[2])})"
    if kind in ("bin", "cmp"):
        return f"({expr_text(e[2])} {'<>' if e[1] == '!=' else e[1]} {expr_text(e[3])})"
    if kind in ("and", "or"):
        return f"({expr_text(e[1])} {kind.upper()} {expr_text(e[2])})"
    return _constructor_text(e)


def _constructor_text(e: Any) -> str:
    """The rest of ksqlDB's ExpressionFormatter: struct fields, subscripts, casts, constructors, NOT and minus."""
    kind = e[0]
    if kind == "deref":
        return f"{expr_text(e[1])}->{e[2]}"
    if kind == "subscript":
        return f"{expr_text(e[1])}[{expr_text(e[2])}]"
    if kind == "cast":
        return f"CAST({expr_text(e[1])} AS {type_str(e[2])})"
    if kind == "array":
        return f"ARRAY[{', '.join(expr_text(x) for x in e[1])}]"
    if kind == "map":
        return f"MAP({', '.join(f'{expr_text(k)}:={expr_text(v)}' for k, v in e[1])})"
    if kind == "struct":
        return f"STRUCT({', '.join(f'{n}:={expr_text(v)}' for n, v in e[1])})"
    if kind == "not":
        return f"(NOT {expr_text(e[1])})"
    if kind == "neg":
        return f"-{expr_text(e[1])}"
    return kind.upper()


_NUMBERED = re.compile(r"(.*?)(?:_(\d+))?")


def generated_names(items: list, source_columns: list[str] | None = None) -> dict[int, str]:
    """ksqlDB's names for unaliased expressions of a SELECT: KSQL_COL_0, KSQL_COL_1, ... in order, skipping the
    aliases the query gives itself (the index of each item -> its generated name). With the source's columns, a
    struct field `A->B` is named `B`, or `B_1`, `B_2`, ... when a source column or an earlier field has that name
    (ksqlDB's StructFieldAliasGenerator; simple-struct.json "clashing field name")."""
    # KSQL_COL_<n> skips the numbers the source's columns use too (elements.json "should handle sources with
    # generated column names")
    taken = {i[2] for i in items if i[0] == "expr" and i[2]} | set(source_columns or ())
    used: dict[str, set[int]] = {}
    for name in source_columns or ():
        m = _NUMBERED.fullmatch(name)
        assert m is not None  # the pattern matches any text
        used.setdefault(m.group(1), set()).add(int(m.group(2) or 0))
    out, n = {}, 0
    for index, item in enumerate(items):
        if item[0] == "expr" and not item[2] and item[1][0] == "deref" and source_columns is not None:
            m = _NUMBERED.fullmatch(item[1][2])
            assert m is not None
            numbers = used.setdefault(m.group(1), set())
            i = next(i for i in range(len(numbers) + 1) if i not in numbers)
            numbers.add(i)
            out[index] = m.group(1) if i == 0 else f"{m.group(1)}_{i}"
            continue
        if item[0] != "expr" or item[2] or item[1][0] in ("col", "deref"):
            continue
        while f"KSQL_COL_{n}" in taken:
            n += 1
        out[index] = f"KSQL_COL_{n}"
        n += 1
    return out
