"""Regenerate src/brook/sql/function_docs.json: what ksqlDB 0.29's DESCRIBE FUNCTION answers for its built-in
functions (names, descriptions, author, argument names and types, return types), read from the annotations of its
UDF, UDAF and UDTF classes (@UdfDescription, @Udf, @UdfParameter, @UdafFactory, @Udtf) as ksqlDB's loaders read
them.  Run once against a ksqlDB git repository:

    python3 scripts/gen_function_docs.py /path/to/ksql.git v0.29.0

Types are rendered as ksqlDB's ParamType.toString (VARCHAR, INT, ARRAY<T>, MAP<K, V>, LAMBDA (A) => B, ...).
Variants are listed in source order (ksqlDB's own order comes from Class.getMethods, which the JVM leaves open)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = "ksqldb-engine/src/main/java/io/confluent/ksql/function/"
SIMPLE = {"String": "VARCHAR", "Integer": "INT", "int": "INT", "Long": "BIGINT", "long": "BIGINT",
          "Double": "DOUBLE", "double": "DOUBLE", "Boolean": "BOOLEAN", "boolean": "BOOLEAN",
          "BigDecimal": "DECIMAL", "Date": "DATE", "Timestamp": "TIMESTAMP", "Time": "TIME",
          "TimeUnit": "INTERVAL UNIT", "ByteBuffer": "BYTES", "Struct": "STRUCT<>", "Object": "ANY"}
SQL = {"STRING": "VARCHAR", "VARCHAR": "VARCHAR", "INTEGER": "INT", "INT": "INT"}
CONSTANTS = {"KsqlConstants.CONFLUENT_AUTHOR": "Confluent"}


def balanced(text: str, start: int, open_: str = "(", close: str = ")") -> int:
    """The index just past the bracket closing the one at `start` (string literals skipped)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced")


def split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur += text[i:j + 1]
            i = j + 1
            continue
        depth += c in "(<{[" and 1 or 0
        depth -= c in ")>}]" and 1 or 0
        if c == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def value(expr: str, consts: dict[str, str]) -> str:
    """A Java constant expression: string literals and constants joined by `+`."""
    out = ""
    for term in split_top(expr, "+"):
        term = term.strip()
        if term.startswith('"'):
            out += json.loads(term)
        elif term in consts:
            out += consts[term]
        elif term in CONSTANTS:
            out += CONSTANTS[term]
        elif term.startswith("{"):  # an array of strings (paramSchema)
            return json.dumps([value(t, consts) for t in split_top(term[1:-1])])
        else:
            out += term  # an enum such as FunctionCategory.MATHEMATICAL
    return out


def annotation_args(text: str, consts: dict[str, str]) -> dict[str, str]:
    args = {}
    for part in split_top(text):
        if "=" in part and not part.startswith('"'):
            key, expr = part.split("=", 1)
            args[key.strip()] = value(expr, consts)
        elif part:
            args["value"] = value(part, consts)
    return args


def sql_type(text: str) -> str:
    """A SQL type in an annotation's schema, as ksqlDB's ParamType prints it."""
    t = text.strip()
    upper = t.upper()
    for prefix in ("ARRAY<", "MAP<", "STRUCT<"):
        if upper.startswith(prefix):
            inner = split_top(t[len(prefix):-1])
            if prefix == "STRUCT<":
                fields = [f.split(None, 1) for f in inner]
                return "STRUCT<" + ", ".join(f"{n.strip('`')} {sql_type(ty)}" for n, ty in fields) + ">"
            return prefix + ", ".join(sql_type(i) for i in inner) + ">"
    if upper.startswith("DECIMAL"):
        return "DECIMAL"
    return SQL.get(upper, upper)


def java_type(t: str, generics: set[str]) -> str:
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"@\w+(\([^)]*\))?\s*", "", t)
    t = t.replace("java.sql.", "").replace("java.util.", "")
    if t.endswith("[]"):
        return f"ARRAY<{java_type(t[:-2], generics)}>"
    if t in generics:
        return t
    if t in SIMPLE:
        return SIMPLE[t]
    m = re.fullmatch(r"(\w+)\s*<(.*)>", t)
    if not m:
        raise ValueError(f"type {t}")
    raw, args = m[1], [java_type(a, generics) for a in split_top(m[2])]
    if raw == "List":
        return f"ARRAY<{args[0]}>"
    if raw == "Map":
        return f"MAP<{args[0]}, {args[1]}>"
    if raw in ("Function", "BiFunction", "TriFunction"):
        return f"LAMBDA ({', '.join(args[:-1])}) => {args[-1]}"
    raise ValueError(f"type {t}")


def parameters(text: str, generics: set[str], consts: dict[str, str]) -> list[dict]:
    out = []
    for p in split_top(text):
        ann: dict[str, str] = {}
        m = re.search(r"@UdfParameter\s*(\()?", p)
        if m:
            if m[1]:
                end = balanced(p, m.end() - 1)
                ann = annotation_args(p[m.end():end - 1], consts)
                p = p[:m.start()] + p[end:]
            else:
                p = p[:m.start()] + p[m.end():]
        p = re.sub(r"@\w+(\([^)]*\))?", "", p)
        p = re.sub(r"\bfinal\b", "", p).strip()
        type_text, name = p.rsplit(None, 1) if "..." not in p else p.split("...")
        variadic = "..." in p
        type_text, name = type_text.strip(), name.strip()
        t = sql_type(ann["schema"]) if ann.get("schema") else java_type(type_text, generics)
        out.append({"name": ann.get("value") or name, "type": t, "description": ann.get("description", ""),
                    "isVariadic": variadic})
    return out


def methods(src: str, marker: str, consts: dict[str, str]):
    """(annotation args, generics, return type text, params text, is static) of each method annotated `marker`."""
    for m in re.finditer(rf"@{marker}\b(\s*\()?", src):
        pos = m.end()
        ann: dict[str, str] = {}
        if m[1]:
            end = balanced(src, m.end() - 1)
            ann = annotation_args(src[m.end():end - 1], consts)
            pos = end
        while True:  # other annotations before the method
            m2 = re.match(r"\s*@\w+\s*", src[pos:])
            if not m2:
                break
            pos += m2.end()
            if src[pos] == "(":
                pos = balanced(src, pos)
        depth, i = 0, pos
        while not (src[i] == "(" and depth == 0):  # the parameter list's "(" (type arguments skipped)
            depth += (src[i] == "<") - (src[i] == ">")
            i += 1
        head, params = src[pos:i].strip(), src[i + 1:balanced(src, i) - 1]
        head = re.sub(r"\b(public|static|final|synchronized)\b", "", head).strip()
        generics: set[str] = set()
        if head.startswith("<"):
            end = balanced(head, 0, "<", ">")
            generics = {g.split()[0] for g in split_top(head[1:end - 1])}
            head = head[end:].strip()
        ret = head.rsplit(None, 1)[0]
        yield ann, generics, ret, params


def constants(src: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r"static\s+final\s+String\s+(\w+)\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*\+?\s*)+);", src):
        out[m[1]] = value(m[2], out)
    return out


def full(pattern: str, text: str) -> re.Match[str]:
    m = re.fullmatch(pattern, text.strip(), re.S)
    if m is None:
        raise ValueError(f"unexpected {text}")
    return m


def describe(src: str, known: dict[str, str]) -> tuple[str, dict] | None:
    consts = {**known, **constants(src)}
    m = re.search(r"@(Udf|Udaf|Udtf)Description\s*\(", src)
    if not m:
        return None
    kind = {"Udf": "SCALAR", "Udaf": "AGGREGATE", "Udtf": "TABLE"}[m[1]]
    meta = annotation_args(src[m.end():balanced(src, m.end() - 1) - 1], consts)
    functions = []
    if kind == "SCALAR":
        for ann, generics, ret, params in methods(src, "Udf", consts):
            functions.append({"arguments": parameters(params, generics, consts),
                              "returnType": sql_type(ann["schema"]) if ann.get("schema") else java_type(ret, generics),
                              "description": ann.get("description", "")})
    elif kind == "TABLE":
        for ann, generics, ret, params in methods(src, "Udtf", consts):
            element = split_top(full(r"List\s*<(.*)>", ret)[1])[0]
            functions.append({"arguments": parameters(params, generics, consts),
                              "returnType": sql_type(ann["schema"]) if ann.get("schema")
                              else java_type(element, generics), "description": ann.get("description", "")})
    else:
        for ann, generics, ret, params in methods(src, "UdafFactory", consts):
            inner = split_top(full(r"(?:Table)?Udaf\s*<(.*)>", ret)[1])
            schemas = json.loads(ann["paramSchema"]) if ann.get("paramSchema", "").startswith("[") else (
                [ann["paramSchema"]] if ann.get("paramSchema") else [])
            tm = re.fullmatch(r"(Pair|Triple|Quadruple|Quintuple)\s*<(.*)>", inner[0], re.S)
            inputs = split_top(tm[2]) if tm else [inner[0]]
            args = []
            for i, t in enumerate(inputs):
                vm = re.fullmatch(r"VariadicArgs\s*<(.*)>", t, re.S)
                schema = schemas[i] if i < len(schemas) else ""
                args.append({"name": f"val{i + 1}", "type": sql_type(schema) if schema else
                             java_type(vm[1] if vm else t, generics), "description": "", "isVariadic": bool(vm)})
            ret_type = sql_type(ann["returnSchema"]) if ann.get("returnSchema") else java_type(inner[2], generics)
            functions.append({"arguments": args + parameters(params, generics, consts), "returnType": ret_type,
                              "description": ann.get("description", "")})
    return meta["name"].upper(), {"type": kind, "description": meta.get("description", ""),
                                  "author": meta.get("author", ""), "version": meta.get("version", ""),
                                  "functions": functions}


def main() -> None:
    repo, rev = sys.argv[1], sys.argv[2]
    names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", rev, ROOT], check=True,
                           capture_output=True, text=True).stdout.split()
    sources, known = {}, {}
    for name in names:
        if not name.endswith(".java"):
            continue
        src = subprocess.run(["git", "-C", repo, "show", f"{rev}:{name}"], check=True, capture_output=True,
                             text=True).stdout
        src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
        src = re.sub(r"(?m)^\s*//.*$", "", src)
        sources[name] = src = re.sub(r"(?m)\s//[^\n\"]*$", "", src)
        known.update({f"{Path(name).stem}.{k}": v for k, v in constants(src).items()})  # Class.CONSTANT
    out: dict[str, dict] = {}
    for name, src in sources.items():
        try:
            found = describe(src, known)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            print(f"skipped {name}: {e!r}", file=sys.stderr)
            continue
        if found:
            fn_name, entry = found
            if fn_name in out:  # one function's variants spread over classes
                out[fn_name]["functions"] += entry["functions"]
            else:
                out[fn_name] = entry
    target = Path(__file__).resolve().parent.parent / "src/brook/sql/function_docs.json"
    target.write_text(json.dumps(dict(sorted(out.items())), indent=1, ensure_ascii=False) + "\n")
    print(f"{len(out)} functions written to {target}")


if __name__ == "__main__":
    main()
