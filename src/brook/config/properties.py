"""Java .properties files (the subset Kafka's config files use: comments, key=value / key: value, continuations)."""

from __future__ import annotations

import re
from pathlib import Path

_KEY_VALUE = re.compile(r"([^=:\s]*)\s*[=:]?\s*(.*)", re.S)


def parse_properties(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = raw.strip() if not pending else raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        # java.util.Properties: the key ends at the first '=', ':' or whitespace ("key value" is valid)
        key, value = _KEY_VALUE.match(line.strip()).groups()  # type: ignore[union-attr]
        value = value.strip()
        out[key] = value.replace("\\:", ":").replace("\\=", "=").replace("\\\\", "\\")
    return out


def load_properties(path: str | Path) -> dict[str, str]:
    return parse_properties(Path(path).read_text(encoding="utf-8"))
