"""ksql.query.pull.table.scan.enabled=false: a pull query on a table must then be a key lookup, and its WHERE
clause is checked by ksqlDB's QueryFilterNode rules (each disjunct of its OR-of-ANDs form bounds every key column
once, with `=`, a range or IN, against values that name no column). Brook answers lookups and scans alike by reading the
table's store; with scans disabled it refuses, with ksqlDB's messages, what ksqlDB would have scanned."""

from __future__ import annotations

from typing import Any

from .expressions import COMPARISONS, Compiler, SqlError, column_refs, comparable, expr_text, rewrite
from .parser import type_str
from .pullstream import PULL_QUERY_SYNTAX_HELP

_BOUNDS = ("WINDOWSTART", "WINDOWEND")


def check_key_lookup(where: Any, key_columns: list[tuple[str, tuple]], windowed: bool) -> None:
    """Raise SqlError unless `where` is a key lookup (QueryFilterNode.validateWhereClauseAndCheckTableScan with
    table scans disabled)."""
    if where is None:
        raise _invalid("Missing WHERE clause", windowed)
    keys = [name for name, _ in key_columns]
    key_text = "[" + ", ".join(f"`{n}` {type_str(t)} KEY" for n, t in key_columns) + "]"
    for disjunct in _disjuncts(where):
        seen: set[str] = set()
        for conjunct in _conjuncts(disjunct):
            _check(conjunct, keys, key_text, seen, windowed)
        if not seen:
            raise _invalid(f"WHERE clause missing key column for disjunct: {expr_text(disjunct)}", windowed)
        if len(seen) != len(keys):
            specified = "[" + ", ".join(f"`{n}`" for n in keys if n in seen) + "]"
            raise _invalid(f"Multi-column sources must specify every key in the WHERE clause. Specified: {specified} "
                           f"Expected: {key_text}", windowed)


def check_key_values(where: Any, key_columns: list[tuple[str, tuple]], windowed: bool) -> None:
    """QueryFilterNode.resolveKey: when the WHERE clause is a key lookup, the values it looks up (`=`, ranges, each
    IN item) must be non-NULL and convert to the key column's type without loss (a string is no INTEGER, a DOUBLE no
    BIGINT). A WHERE clause that needs a scan is only a filter: its values are not converted."""
    try:
        check_key_lookup(where, key_columns, windowed)
    except SqlError:
        return
    types = dict(key_columns)
    for disjunct in _disjuncts(where):
        for e in _conjuncts(disjunct):
            if e[0] == "cmp" and e[1] in ("=", "<", "<=", ">", ">="):
                pairs = [(e[2], e[3]), (e[3], e[2])]
            elif e[0] == "in":
                pairs = [(e[2], item) for item in e[3]]
            else:
                continue
            for column, value in pairs:
                if column[0] != "col" or column[2] not in types or value[0] != "lit":
                    continue  # a computed value: ksqlDB evaluates it first, Brook compares as it filters
                name, t = column[2], types[column[2]]
                if value[1] is None:
                    raise SqlError(f"Primary key columns can not be NULL: ({name} = null)")
                if value[2] is None or not _converts(value[2], t):
                    raw = str(value[1]).lower() if isinstance(value[1], bool) else value[1]
                    raise SqlError(f"'{raw}' can not be converted to the type of the key column: {name} "
                                   f"{type_str(t)} KEY")


def check_between(where: Any, compiler: Compiler) -> None:
    """A pull query's filter is interpreted with BETWEEN as two comparisons (ksqlDB's PullQueryRewriter), whose
    types are then checked (InterpretedExpressionFactory: "Invalid expression: Cannot compare ...")."""
    def visit(e: Any) -> None:
        if isinstance(e, tuple) and e[:1] == ("between",):
            t = compiler.type_of(e[2])
            for bound, op in ((e[3], ">="), (e[4], "<=")):
                b = compiler.type_of(bound)
                if t is not None and b is not None and not comparable(t, b, op):
                    raise SqlError(f"Invalid expression: Cannot compare {expr_text(e[2])} ({type_str(t)}) to "
                                   f"{expr_text(bound)} ({type_str(b)}) with {COMPARISONS[op]}.")
    rewrite(where, visit)


def check_like(where: Any, types: dict[str, tuple], windowed: bool) -> None:
    """QueryFilterNode's validator, scans enabled or not: LIKE on a column needs a STRING column."""
    def visit(e: Any) -> None:
        if isinstance(e, tuple) and e[:1] == ("like",) and e[2][0] == "col":
            t = types.get(e[2][2])
            if t is not None and t[0] != "STRING":
                raise _invalid(f"The column type for Like condition must be VARCHAR. The column type is {t[0]}",
                               windowed)
    rewrite(where, visit)


_WIDENING = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")  # ksqlDB's implicit numeric casts, narrowest first


def _converts(have: tuple, want: tuple) -> bool:
    """DefaultSqlValueCoercer.STRICT: the same type, or a number to a wider number."""
    if have[0] in _WIDENING and want[0] in _WIDENING:
        return _WIDENING.index(have[0]) <= _WIDENING.index(want[0])
    return have[0] == want[0]


def _check(e: Any, keys: list[str], key_text: str, seen: set[str], windowed: bool) -> None:
    kind = e[0]
    if kind == "cmp":
        _, op, left, right = e
        column, other = (left, right) if left[0] == "col" else (right, left) if right[0] == "col" else (None, None)
        if column is None:
            raise _invalid("A comparison must directly reference a key column", windowed)
        name = column[2]
        if name in _BOUNDS:  # window bounds narrow a windowed lookup (checked where the bounds are read)
            return
        if name not in keys:
            return  # a filter on a value column, applied to what the lookup finds
        # ranges are key queries too (ksql.query.pull.range.scan.enabled, true by default)
        if op not in ("=", "<", "<=", ">", ">="):
            raise _invalid(f"Bound on key columns '{key_text}' must currently be '='", windowed)
        if column_refs(other):
            raise _invalid("A comparison must be between a key column and a resolvable expression", windowed)
        _seen(name, seen, windowed)
    elif kind == "in":
        _, negated, value, items = e
        if value[0] != "col" or value[2] not in keys:
            raise _invalid("A comparison must directly reference a key column", windowed)
        if negated:
            raise _invalid(f"Bound on key columns '{key_text}' must currently be '='", windowed)
        if any(column_refs(item) for item in items):
            raise _invalid("A comparison must be between a key column and a resolvable expression", windowed)
        _seen(value[2], seen, windowed)
    elif kind == "like" and e[2][0] != "col":
        raise _invalid("Like condition must be between strings", windowed)
    elif kind == "between" and any(c[2] in keys for c in column_refs(e)):
        raise _invalid(f"Bound on key columns '{key_text}' must currently be '='", windowed)


def _seen(name: str, seen: set[str], windowed: bool) -> None:
    if name in seen:
        raise _invalid("A comparison condition on the key column cannot be combined with other comparisons such as "
                       "an IN predicate", windowed)
    seen.add(name)


def _disjuncts(e: Any) -> list[Any]:
    """The WHERE clause as an OR of ANDs (ksqlDB's LogicalPlanner rewrites it to disjunctive normal form)."""
    if e[0] == "or":
        return _disjuncts(e[1]) + _disjuncts(e[2])
    if e[0] == "and":
        return [("and", a, b) for a in _disjuncts(e[1]) for b in _disjuncts(e[2])]
    return [e]


def _conjuncts(e: Any) -> list[Any]:
    return _conjuncts(e[1]) + _conjuncts(e[2]) if e[0] == "and" else [e]


def _invalid(message: str, windowed: bool) -> SqlError:
    """QueryFilterNode.invalidWhereClauseException's text."""
    window = ("\n - (optionally) limits the time bounds of the windowed table.\n\t Bounds on [`WINDOWSTART`, "
              "`WINDOWEND`] are supported\n\t Supported operators are [EQUAL, GREATER_THAN, GREATER_THAN_OR_EQUAL, "
              "LESS_THAN, LESS_THAN_OR_EQUAL]") if windowed else ""
    return SqlError(f"{message}. {PULL_QUERY_SYNTAX_HELP}\nPull queries require a WHERE clause that:\n - includes a "
                    "key equality expression, e.g. `SELECT * FROM X WHERE <key-column> = Y;`.\n - in the case of a "
                    "multi-column key, is a conjunction of equality expressions that cover all key columns.\n - to "
                    "support range expressions, e.g.,  SELECT * FROM X WHERE <key-column> < Y;`, range scans need "
                    f"to be enabled by setting ksql.query.pull.range.scan.enabled=true{window}\nIf more flexible "
                    "queries are needed, , table scans can be enabled by setting "
                    "ksql.query.pull.table.scan.enabled=true.")
