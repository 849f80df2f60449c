"""ksqlDB's string, regular-expression, bytes and URL functions.  Expected values follow ksqlDB's functional tests
(query-validation-tests/substring.json, instr.json, chr.json, encode.json, split-to-map.json, url.json, ...)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote, unquote_plus, urlsplit

from brook.sql.functions_base import (
    BIGINT,
    BYTES,
    CONVERSIONS,
    DOUBLE,
    INTEGER,
    REGEX,
    STRING,
    STRING_CAT,
    URL,
    Fn,
    nulls,
)

S = ("STRING",)


def _str_or_bytes(t: list) -> tuple:
    return BYTES if t and t[0] == BYTES else STRING


def _substring(s: Any, pos: int, length: int | None = None) -> Any:
    # substring.json "in group by": position 0 reads as 1; negative positions count from the end
    start = max(len(s) + pos, 0) if pos < 0 else max(pos - 1, 0)
    return s[start:] if length is None else s[start:start + max(length, 0)]


def _instr(s: str, sub: str, position: int = 1, occurrence: int = 1) -> int:
    # instr.json: a negative position searches backwards from that many characters before the end
    if position == 0 or occurrence <= 0:
        return 0
    if position > 0:
        i = position - 2
        for _ in range(occurrence):
            i = s.find(sub, i + 1)
            if i < 0:
                return 0
        return i + 1
    end = len(s) + position + len(sub)
    for _ in range(occurrence):
        i = s.rfind(sub, 0, end)
        if i < 0:
            return 0
        end = i + len(sub) - 1
    return i + 1


def _pad(left: bool) -> Any:
    def pad(s: Any, length: int, padding: Any) -> Any:
        # the docs: an empty padding or a negative length give NULL; a longer input is truncated
        if length < 0 or not padding:
            return None
        if len(s) >= length:
            return s[:length]
        fill = (padding * (length // len(padding) + 1))[:length - len(s)]
        return fill + s if left else s + fill
    return nulls(pad)


def _chr(code: Any) -> str | None:
    # chr.json: an int code point, or a '\uXXXX' string (surrogate pairs allowed); anything else is NULL
    if isinstance(code, str):
        if not re.fullmatch(r"(\\u[0-9a-fA-F]{4})+", code):
            return None
        units = bytes.fromhex("".join(code[i + 2:i + 6] for i in range(0, len(code), 6)))
        return units.decode("utf-16-be", "surrogatepass")
    if 0 <= code <= 0x10FFFF:
        return chr(code)
    return None


def _hex(text: str) -> bytes:
    # encode.json "encode hex": `0x` may have an odd digit count, `X'..'` and bare hex may not
    if text[:2] in ("0x", "0X"):
        body = text[2:]
        return bytes.fromhex("0" + body if len(body) % 2 else body)
    if re.fullmatch(r"[xX]'.*'", text):
        return bytes.fromhex(text[2:-1])
    return bytes.fromhex(text)


def _decode(text: str, encoding: str) -> bytes | None:
    enc = encoding.lower()
    try:
        if enc == "hex":
            return _hex(text)
        if enc == "base64":
            return base64.b64decode(text)
        if enc in ("utf8", "ascii"):
            return text.encode("utf-8" if enc == "utf8" else "ascii", "replace")
    except (ValueError, binascii.Error):
        raise ValueError(f"Can't convert the input string to bytes using {encoding} encoding") from None
    return None


def _encode(data: bytes, encoding: str) -> str | None:
    enc = encoding.lower()
    if enc == "hex":
        return data.hex()
    if enc == "base64":
        return base64.b64encode(data).decode()
    if enc == "utf8":
        return data.decode("utf-8", "replace")
    if enc == "ascii":
        return "".join(chr(b) if b < 128 else "\ufffd" for b in data)
    return None


def _encode_string(text: str, in_enc: str, out_enc: str) -> str | None:
    # encode.json "encode null": an unknown encoding gives NULL
    data = _decode(text, in_enc)
    return None if data is None else _encode(data, out_enc)


def _to_bytes(text: str, encoding: str) -> bytes:
    data = _decode(text, encoding)
    if data is None:
        raise ValueError(f"Supported encodings are: hex, utf8, ascii and base64. Got: {encoding}")
    return data


def _from_bytes(data: bytes, encoding: str) -> str:
    text = _encode(data, encoding)
    if text is None:
        raise ValueError(f"Supported encodings are: hex, utf8, ascii and base64. Got: {encoding}")
    return text


def _mask_char(c: str, upper: str | None, lower: str | None, digit: str | None, other: str | None) -> str:
    if c.isupper():
        return upper[:1] if upper else c
    if c.islower():
        return lower[:1] if lower else c
    if c.isdigit():
        return digit[:1] if digit else c
    return other[:1] if other else c


_MASKS = ("X", "x", "n", "-")


def _mask(s: str | None, *chars: Any) -> str | None:
    # a NULL mask character leaves that kind of character as it is (the docs' MASK example)
    if s is None:
        return None
    m = list(chars) + list(_MASKS[len(chars):])
    return "".join(_mask_char(c, *m) for c in s)


def _mask_part(name: str, keep: bool, left: bool) -> Any:
    def fn(s: str | None, n: int | None, *chars: Any) -> str | None:
        if s is None or n is None:
            return None
        if n < 0:
            raise ValueError(f"function {name.lower()} requires a non-negative number of characters to mask or skip")
        split = min(n, len(s)) if left else max(len(s) - n, 0)
        head, tail = s[:split], s[split:]
        if keep == left:  # MASK_KEEP_LEFT and MASK_RIGHT mask the tail
            return head + _mask(tail, *chars)  # type: ignore[operator]
        return _mask(head, *chars) + tail  # type: ignore[operator]
    return fn


def _initcap(s: str) -> str:
    return re.sub(r"\S+", lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), s)


def _java_trim(s: str) -> str:
    # Java's String.trim: every character up to U+0020
    return s.strip("".join(chr(c) for c in range(33)))


def _split(s: Any, delim: Any) -> list:
    if len(delim) == 0:  # split.json "split all characters by using the '' delimiter": '' gives ['']
        return [s[i:i + 1] for i in range(len(s))] or [s]
    return s.split(delim)


def _split_to_map(s: str, entry: str | None, kv: str | None) -> dict | None:
    # split-to-map.json "split_to_map": empty entries skipped, entries without the kv delimiter dropped, an entry
    # with several keeps its first two parts, the last value of a key wins
    if not entry or not kv:
        return None
    out = {}
    for part in s.split(entry):
        if part and kv in part:
            k, v = part.split(kv)[:2]
            out[k] = v
    return out


def _java_regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise ValueError(f"Invalid regular expression pattern: {pattern}: {e}") from None


def _regexp_extract(pattern: str, s: str, group: int = 0) -> str | None:
    m = _java_regex(pattern).search(s)
    return None if m is None else m.group(group)


def _regexp_extract_all(pattern: str, s: str, group: int = 0) -> list:
    return [m.group(group) for m in _java_regex(pattern).finditer(s)]


def _regexp_replace(s: str, pattern: str, replacement: str) -> str:
    # Java's replaceAll: `$n` names a group, `\x` is a literal x
    repl = re.sub(r"\\(.)|\$(\d+)", lambda m: m.group(1).replace("\\", "\\\\") if m.group(1) is not None
                  else f"\\g<{m.group(2)}>", replacement.replace("\\\\", "\x00")).replace("\x00", "\\\\")
    return _java_regex(pattern).sub(repl, s)


def _regexp_split(s: str, pattern: str) -> list:
    # split.json "regexp_split_to_array": groups in the pattern do not add elements (Java's split), trailing empty
    # elements stay
    if pattern == "":
        return list(s)
    out, start = [], 0
    for m in _java_regex(pattern).finditer(s):
        if m.end() == 0:
            continue  # Java drops the empty leading element of a zero-width match at the start
        out.append(s[start:m.start()])
        start = m.end()
    return [*out, s[start:]]


def _from_bytes_number(size: int, code: str) -> Any:
    def fn(data: bytes, order: str = "BIG_ENDIAN") -> Any:
        # the docs: a wrong length or byte order gives NULL
        prefix = {"BIG_ENDIAN": ">", "LITTLE_ENDIAN": "<"}.get(order.upper())
        if prefix is None or len(data) != size:
            return None
        return struct.unpack(prefix + code, data)[0]
    return nulls(fn)


def _uuid(data: bytes | None = None) -> str | None:
    if data is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(bytes=data)) if len(data) == 16 else None


def _elt(n: int | None, *args: Any) -> Any:
    return None if n is None or not 1 <= n <= len(args) else args[n - 1]


def _field(s: Any, *args: Any) -> int:
    return 0 if s is None else next((i + 1 for i, a in enumerate(args) if a == s), 0)


def _concat(*args: Any) -> Any:
    parts = [a for a in args if a is not None]
    return b"".join(parts) if parts and isinstance(parts[0], bytes) else "".join(str(p) for p in parts)


def _concat_ws(sep: Any, *args: Any) -> Any:
    if sep is None:
        return None
    return sep.join(a for a in args if a is not None)


# URLs (url.json): invalid URLs and missing parts give NULL; parts are decoded
def _url(fn: Any) -> Any:
    def wrapped(url: str, *rest: Any) -> Any:
        try:
            return fn(urlsplit(url), *rest)
        except ValueError:
            return None
    return nulls(wrapped)


def _url_parameter(u: Any, name: str) -> str | None:
    for pair in u.query.split("&"):
        k, eq, v = pair.partition("=")
        if unquote_plus(k) == name:
            return unquote_plus(v) if eq else None
    return None


FUNCTIONS: dict[str, Fn] = {
    "CHR": Fn(nulls(_chr), STRING, (1, 1), STRING_CAT),
    "CONCAT": Fn(_concat, _str_or_bytes, (1, 99), STRING_CAT),
    "CONCAT_WS": Fn(_concat_ws, _str_or_bytes, (2, 99), STRING_CAT),
    "ELT": Fn(_elt, STRING, (1, 99), STRING_CAT, ("INTEGER",)),
    "ENCODE": Fn(nulls(_encode_string), STRING, (3, 3), STRING_CAT, (S[0], S[0], S[0])),
    "FIELD": Fn(_field, INTEGER, (1, 99), STRING_CAT),
    "FROM_BYTES": Fn(nulls(_from_bytes), STRING, (2, 2), STRING_CAT, ("BYTES", "STRING")),
    "INITCAP": Fn(nulls(_initcap), STRING, (1, 1), STRING_CAT, S),
    "INSTR": Fn(nulls(_instr), INTEGER, (2, 4), STRING_CAT, ("STRING", "STRING", "INTEGER", "INTEGER")),
    "LCASE": Fn(nulls(str.lower), STRING, (1, 1), STRING_CAT, S),
    "LEN": Fn(nulls(len), INTEGER, (1, 1), STRING_CAT),
    "LPAD": Fn(_pad(True), _str_or_bytes, (3, 3), STRING_CAT, (None, "INTEGER")),
    "MASK": Fn(_mask, STRING, (1, 5), STRING_CAT, S),
    "MASK_KEEP_LEFT": Fn(_mask_part("MASK_KEEP_LEFT", True, True), STRING, (2, 6), STRING_CAT, ("STRING", "INTEGER")),
    "MASK_KEEP_RIGHT": Fn(_mask_part("MASK_KEEP_RIGHT", True, False), STRING, (2, 6), STRING_CAT,
                          ("STRING", "INTEGER")),
    "MASK_LEFT": Fn(_mask_part("MASK_LEFT", False, True), STRING, (2, 6), STRING_CAT, ("STRING", "INTEGER")),
    "MASK_RIGHT": Fn(_mask_part("MASK_RIGHT", False, False), STRING, (2, 6), STRING_CAT, ("STRING", "INTEGER")),
    "MD5": Fn(nulls(lambda s: hashlib.md5(s.encode()).hexdigest()), STRING, (1, 1), STRING_CAT, S),
    "REPLACE": Fn(nulls(lambda s, a, b: s.replace(a, b)), STRING, (3, 3), STRING_CAT, S),
    "RPAD": Fn(_pad(False), _str_or_bytes, (3, 3), STRING_CAT, (None, "INTEGER")),
    "SPLIT": Fn(nulls(_split), lambda t: ("ARRAY", _str_or_bytes(t)), (2, 2), STRING_CAT),
    "SPLIT_TO_MAP": Fn(lambda s, e, kv: None if s is None else _split_to_map(s, e, kv), ("MAP", STRING, STRING),
                       (3, 3), STRING_CAT, ("STRING", "STRING", "STRING")),
    "SUBSTRING": Fn(nulls(_substring), _str_or_bytes, (2, 3), STRING_CAT, (None, "INTEGER", "INTEGER")),
    "TO_BYTES": Fn(nulls(_to_bytes), BYTES, (2, 2), STRING_CAT, ("STRING", "STRING")),
    "TRIM": Fn(nulls(_java_trim), STRING, (1, 1), STRING_CAT, S),
    "UCASE": Fn(nulls(str.upper), STRING, (1, 1), STRING_CAT, S),
    "UUID": Fn(_uuid, STRING, (0, 1), STRING_CAT, ("BYTES",)),
    "REGEXP_EXTRACT": Fn(nulls(_regexp_extract), STRING, (2, 3), REGEX, ("STRING", "STRING", "INTEGER")),
    "REGEXP_EXTRACT_ALL": Fn(nulls(_regexp_extract_all), ("ARRAY", STRING), (2, 3), REGEX,
                             ("STRING", "STRING", "INTEGER")),
    "REGEXP_REPLACE": Fn(nulls(_regexp_replace), STRING, (3, 3), REGEX, ("STRING", "STRING", "STRING")),
    "REGEXP_SPLIT_TO_ARRAY": Fn(nulls(_regexp_split), ("ARRAY", STRING), (2, 2), REGEX, ("STRING", "STRING")),
    "BIGINT_FROM_BYTES": Fn(_from_bytes_number(8, "q"), BIGINT, (1, 2), CONVERSIONS, ("BYTES", "STRING")),
    "DOUBLE_FROM_BYTES": Fn(_from_bytes_number(8, "d"), DOUBLE, (1, 2), CONVERSIONS, ("BYTES", "STRING")),
    "INT_FROM_BYTES": Fn(_from_bytes_number(4, "i"), INTEGER, (1, 2), CONVERSIONS, ("BYTES", "STRING")),
    "URL_DECODE_PARAM": Fn(nulls(unquote_plus), STRING, (1, 1), URL, S),
    "URL_ENCODE_PARAM": Fn(nulls(lambda s: quote_plus(s, safe="*")), STRING, (1, 1), URL, S),
    "URL_EXTRACT_FRAGMENT": Fn(_url(lambda u: unquote(u.fragment) if u.fragment else None), STRING, (1, 1), URL, S),
    "URL_EXTRACT_HOST": Fn(_url(lambda u: u.hostname), STRING, (1, 1), URL, S),
    "URL_EXTRACT_PARAMETER": Fn(_url(_url_parameter), STRING, (2, 2), URL, ("STRING", "STRING")),
    "URL_EXTRACT_PATH": Fn(_url(lambda u: unquote(u.path)), STRING, (1, 1), URL, S),
    "URL_EXTRACT_PORT": Fn(_url(lambda u: u.port), INTEGER, (1, 1), URL, S),
    "URL_EXTRACT_PROTOCOL": Fn(_url(lambda u: u.scheme or None), STRING, (1, 1), URL, S),
    "URL_EXTRACT_QUERY": Fn(_url(lambda u: unquote(u.query) if u.query else None), STRING, (1, 1), URL, S),
}
