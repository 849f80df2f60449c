"""How ksqlDB's CLI prints what the server answers: entity tables (` a | b ` rows between dashed lines, as its
Table class), DESCRIBE's `Name : ...` layout, query rows in `+-----+` cells of a fixed width (its TabularRow), and
values as Java's toString prints the decoded JSON (null, true, [a, b], {k=v}, 1.0E10)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from brook.cli.java_collections import double_str

MIN_CELL_WIDTH = 5
CLIPPED = "..."


def java_str(value: Any) -> str:
    """Objects.toString of a value Jackson decoded: what a query row's cell shows."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return double_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"
    return str(value)


class Table:
    """Column headers, rows, and lines before and after; printed as ksqlDB's CLI prints its tables."""

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence[str]] = (), header: Sequence[str] = (),
                 footer: Sequence[str] = ()) -> None:
        self.headers, self.rows = list(headers), [list(r) for r in rows]
        self.header, self.footer = list(header), list(footer)

    def render(self, width: int) -> str:
        out = list(self.header)
        if self.headers:
            lengths = [max([len(h)] + [max(len(line) for line in r[i].split("\n")) for r in self.rows])
                       for i, h in enumerate(self.headers)]
            separator = "-" * min(width, sum(n + 3 for n in lengths) - 1)
            out.append(_row(self.headers, lengths))
            out.append(separator)
            out.extend(_row(r, lengths) for r in self.rows)
            out.append(separator)
        out.extend(self.footer)
        return "".join(line + "\n" for line in out)


def _row(cells: Sequence[str], lengths: Sequence[int]) -> str:
    return " " + " | ".join(c.ljust(n) for c, n in zip(cells, lengths, strict=True)) + " "


def tabular_row(width: int, cells: Sequence[str], header: bool, wrap: bool = True) -> str:
    """One query row (or the header, between `+---+` lines) in cells of width/columns - 2, long values wrapped
    onto more lines (or clipped with `...` when wrapping is off)."""
    if not cells:
        return ""
    cell = max(width // len(cells) - 2, MIN_CELL_WIDTH)
    split = [[v[i:i + cell].ljust(cell) for i in range(0, len(v), cell)] or [" " * cell] for v in cells]
    lines = max(len(s) for s in split)
    split = [s + [" " * cell] * (lines - len(s)) for s in split]
    shown = lines if wrap or header else 1
    out = []
    for n in range(shown):
        parts = []
        for s in split:
            clip = len(s) > shown and any(p.strip() for p in s[shown:])
            parts.append(s[n][:-len(CLIPPED)] + CLIPPED if clip else s[n])
        out.append("|" + "|".join(parts) + "|")
    if header:
        rule = "+" + ("-" * cell + "+") * len(cells)
        out = [rule, *out, rule]
    return "\n".join(out)


def type_string(schema: dict) -> str:
    """SchemaInfo.toTypeString: a DESCRIBE field's type."""
    kind = schema.get("type", "")
    if kind == "STRING":
        return "VARCHAR(STRING)"
    if kind == "ARRAY":
        return f"ARRAY<{type_string(schema['memberSchema'])}>"
    if kind == "MAP":
        return f"MAP<STRING, {type_string(schema['memberSchema'])}>"
    if kind == "STRUCT":
        return "STRUCT<" + ", ".join(f"{f['name']} {type_string(f['schema'])}" for f in schema["fields"]) + ">"
    if kind == "DECIMAL":
        p = schema.get("parameters") or {}
        return f"DECIMAL({p.get('precision')}, {p.get('scale')})"
    return str(kind)


def _field_type(field: dict, is_table: bool, window_type: str | None = None) -> str:
    text = type_string(field["schema"])
    if field.get("type") == "KEY":
        window = f" (Window type: {window_type})" if window_type else ""
        return f"{text:<16} {'(primary key)' if is_table else '(key)'}{window}"
    return text


def _source_description(s: dict, width: int) -> str:
    is_table = str(s.get("type", "")).upper() == "TABLE"
    fields = s.get("fields") or []
    schema = Table(["Field", "Type"], [[f["name"], _field_type(f, is_table, s.get("windowType"))]
                                      for f in fields]).render(width) \
        if fields else ""
    out = f"{'Name':<20} : {s['name']}\n"
    if not s.get("extended"):
        return out + schema + "For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;\n"
    out += f"{'Type':<20} : {s['type']}\n"
    out += f"{'Timestamp field':<20} : {s.get('timestamp') or 'Not set - using <ROWTIME>'}\n"
    out += f"{'Key format':<20} : {s.get('keyFormat')}\n{'Value format':<20} : {s.get('valueFormat')}\n"
    if s.get("topic"):
        out += f"{'Kafka topic':<20} : {s['topic']}"
        if s.get("partitions"):
            out += f" (partitions: {s['partitions']}, replication: {s.get('replication')})"
        out += "\n"
    out += f"{'Statement':<20} : {s.get('statement')}\n\n" + schema
    for queries, operation in ((s.get("readQueries") or [], "read"), (s.get("writeQueries") or [], "write")):
        if queries:
            title = f"Queries that {operation} from this {s['type']}"
            out += f"\n{title:<20}\n-----------------------------------\n"
            out += "".join(f"{q['id']} ({q.get('state') or 'N/A'}) : {q.get('queryString', '')}\n" for q in queries)
            out += "\nFor query topology and execution plan please run: EXPLAIN <QueryId>\n"
    out += f"\n{'Local runtime statistics':<20}\n------------------------\n{s.get('statistics', '')}\n"
    out += f"{s.get('errorStats', '')}\n"
    return out + f"(Statistics of the local KSQL server interaction with the Kafka topic {s.get('topic')})\n"


def _replicas(sizes: list[int]) -> str:
    if not sizes:
        return "0"
    return str(sizes[0]) if len(set(sizes)) == 1 else ", ".join(map(str, sizes))


def _status_count(q: dict) -> str:
    counts = q.get("statusCount") or {}
    return ",".join(f"{k}:{v}" for k, v in counts.items()) if counts else str(q.get("state") or "N/A")


def _properties(e: dict) -> list[list[str]]:
    overwritten, defaults = set(e.get("overwrittenProperties") or ()), set(e.get("defaultProperties") or ())
    rows = []
    for p in e.get("properties") or []:
        name = p["name"]
        kind = "SESSION" if name in overwritten else "" if name in defaults else "SERVER"
        rows.append([name, p.get("scope", ""), kind, "NULL" if p.get("value") is None else str(p["value"])])
    return sorted(rows)


def _functions(e: dict) -> Table:
    funcs = e.get("functions") or []
    footer = ["For detailed information about a function, run: DESCRIBE FUNCTION <Function Name>;"]
    if not funcs or not funcs[0].get("category"):
        return Table(["Function Name", "Type"], sorted([f["name"], str(f.get("type", "")).upper()] for f in funcs),
                     footer=footer)
    rows: list[list[str]] = []
    ordered = sorted(funcs, key=lambda f: (f["category"], f["name"]))
    for f in ordered:
        if rows and f["category"] != rows[-1][1]:
            rows.append([" ", " "])
        rows.append([f["name"], f["category"]])
    return Table(["Function Name", "Category"], rows, footer=footer)


_TABLES: dict[str, Callable[[dict], Table]] = {
    "currentStatus": lambda e: Table(["Message"], [[str(e["commandStatus"]["message"]).split("\n", 1)[0]]]),
    "streams": lambda e: Table(
        ["Stream Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"],
        sorted([s["name"], s["topic"], s.get("keyFormat", ""), s.get("valueFormat", ""),
                str(bool(s.get("isWindowed"))).lower()] for s in e["streams"])),
    "tables": lambda e: Table(
        ["Table Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"],
        sorted([t["name"], t["topic"], t.get("keyFormat", ""), t.get("valueFormat", ""),
                str(bool(t.get("isWindowed"))).lower()] for t in e["tables"])),
    "kafka_topics": lambda e: Table(["Kafka Topic", "Partitions", "Replicas"], [
        [t["name"], str(len(t.get("replicaInfo") or [])), _replicas(t.get("replicaInfo") or [])]
        for t in e["topics"]]),
    "queries": lambda e: Table(
        ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"],
        [[q["id"], q.get("queryType", ""), _status_count(q), ",".join(q.get("sinks") or []),
          ",".join(q.get("sinkKafkaTopics") or []), " ".join(str(q.get("queryString", "")).split())]
         for q in e["queries"]], footer=["For detailed information on a Query run: EXPLAIN <Query ID>;"]),
    "properties": lambda e: Table(["Property", "Scope", "Default override", "Effective Value"], _properties(e)),
    "function_names": _functions,
}


def _split_long_line(text: str, width: int) -> str:
    """Console.splitLongLine: words and single spaces in turn; one that would pass the width starts a new line
    (a space too, which then leads it)."""
    out, length = "", 0
    for word in re.findall(r"[ \n]|[^ \n]+", text):
        if word == "\n" or length + len(word) > width:
            out, length = out + "\n", 0
            if word == "\n":
                continue
        out, length = out + word, length + len(word)
    return out


def _function_description(e: dict, width: int) -> str:
    """Console.printFunctionDescription: the function, then each variation with its return type."""
    name = str(e.get("name", "")).upper()

    def line(label: str, value: str, sub: bool = False) -> str:
        return ("\t" if sub else "") + f"{label:<12}: {value}\n"

    def described(label: str, text: str, sub: bool = False) -> str:
        """printDescription: wrapped to the width after the label (a tab counted as two spaces), each further
        line indented as far as the label."""
        if not text.strip():
            return ""
        indent = max(12, len(label)) + 2 + (2 if sub else 0)
        return line(label, _split_long_line(text.strip(), max(width, 80) - indent).replace(
            "\n", "\n" + " " * indent), sub)

    out = line("Name", name)
    for label, key in (("Author", "author"), ("Version", "version")):
        if str(e.get(key) or "").strip():
            out += line(label, str(e[key]))
    out += described("Overview", str(e.get("description") or ""))
    out += line("Type", str(e.get("type", ""))) + line("Jar", str(e.get("path", ""))) + line("Variations", "")
    for f in e.get("functions") or []:
        args = ", ".join(((a["name"] + " ") if a.get("name") else "") + a["type"] + ("[]" if a.get("isVariadic")
                                                                                      else "")
                         for a in f.get("arguments") or [])
        out += "\n" + line("Variation", f"{name}({args})", True) + line("Returns", str(f.get("returnType")), True)
        out += described("Description", str(f.get("description") or ""), True)
        out += "".join(described(a["name"], str(a.get("description") or ""), True) for a in f.get("arguments") or [])
    return out


def render_entity(entity: dict, width: int) -> str:
    kind = entity.get("@type", "")
    if kind == "describe_function":
        text = _function_description(entity, width)
    elif kind == "sourceDescription":
        text = _source_description(entity["sourceDescription"], width)
    elif kind == "source_descriptions":
        text = "".join(_source_description(s, width) + "\n" for s in entity["sourceDescriptions"])
    elif kind in _TABLES:
        text = _TABLES[kind](entity).render(width)
    else:  # an entity this CLI has no table for: its JSON, rather than nothing
        text = json.dumps(entity, indent=2) + "\n"
    return text + "".join(f"WARNING: {w.get('message')}\n" for w in entity.get("warnings") or [])


def render_entities(entities: list[dict], width: int) -> str:
    """printKsqlEntityList: a blank line before each entity, its statement first when there are several."""
    out = ""
    for e in entities:
        out += "\n" + (e.get("statementText", "") + "\n" if len(entities) > 1 else "") + render_entity(e, width)
    return out
