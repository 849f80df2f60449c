"""Protobuf schemas: .proto text compiled by protoc (grpcio-tools), or the base64 FileDescriptorProto that
confluent-kafka's ProtobufSerializer registers; a printer back to .proto text for the latter."""

from __future__ import annotations

import base64
import binascii
import importlib
import re
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from google.protobuf import (  # noqa: F401 - the well-known types register themselves in the default pool
    any_pb2,
    api_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    source_context_pb2,
    struct_pb2,
    timestamp_pb2,
    type_pb2,
    wrappers_pb2,
)
from google.protobuf.message import DecodeError

# google/type/*.proto: well-known to Confluent's registry (ProtobufSchema.KNOWN_DEPENDENCIES) as google/protobuf's
# are; ProtobufData writes Date and TimeOfDay. Imported, they are in the default pool; their .proto files (from
# googleapis-common-protos) are protoc's imports.
GOOGLE_TYPES = ("calendar_period", "color", "date", "datetime", "dayofweek", "decimal", "expr", "fraction",
                "interval", "latlng", "money", "month", "phone_number", "postal_address", "quaternion", "timeofday")
for _name in GOOGLE_TYPES:
    try:
        importlib.import_module(f"google.type.{_name}_pb2")
    except ImportError:  # an older googleapis-common-protos without it
        pass
# confluent/meta.proto and confluent/type/decimal.proto: well-known to Confluent's registry too (ProtobufData writes
# a Connect Decimal as confluent.type.Decimal, its precision and scale in the field's (confluent.field_meta));
# confluent-kafka ships them compiled, which puts them in the default pool
CONFLUENT_FILES = ("confluent/meta.proto", "confluent/type/decimal.proto")
importlib.import_module("confluent_kafka.schema_registry.confluent.meta_pb2")
importlib.import_module("confluent_kafka.schema_registry.confluent.type.decimal_pb2")
META_FILE = CONFLUENT_FILES[0]
# Confluent's parser reads `(confluent.field_meta)` options without the import that protoc needs
_META_OPTION = re.compile(r"\(\s*\.?confluent\.(?:file|message|field|enum|enum_value)_meta\s*\)")

_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
MAIN_FILE = "schema.proto"


class ProtobufError(Exception):
    pass


def _decode(text: str) -> descriptor_pb2.FileDescriptorProto | None:
    if not _BASE64.match(text):
        return None
    try:
        fd = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(text, validate=False))
    except (binascii.Error, DecodeError, ValueError):
        return None
    return fd if fd.message_type or fd.enum_type or fd.service or fd.package or fd.syntax else None


def is_serialized(text: str) -> bool:
    return _decode(text) is not None


def _check(fd: descriptor_pb2.FileDescriptorProto, files: dict[str, descriptor_pb2.FileDescriptorProto]) -> None:
    """Builds the descriptor in a pool of its dependencies, as the serializer's deserializer will."""
    pool = descriptor_pool.DescriptorPool()
    default = descriptor_pool.Default()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        dep = descriptor_pb2.FileDescriptorProto()
        if name in files:
            dep.CopyFrom(files[name])
            dep.name = name
        else:
            try:
                default.FindFileByName(name).CopyToProto(dep)
            except KeyError as e:
                raise ProtobufError(f"import {name!r} is neither a reference nor a well-known type") from e
        for d in dep.dependency:
            add(d)
        pool.Add(dep)
        added.add(name)

    for d in fd.dependency:
        add(d)
    try:
        pool.Add(fd)
        pool.FindFileByName(fd.name)
    except (TypeError, KeyError, ValueError) as e:
        raise ProtobufError(str(e)) from e


def _with_meta_import(text: str) -> tuple[str, bool]:
    """The text with `import "confluent/meta.proto";` added after its syntax line when it uses Confluent's options
    without importing them (as Confluent's registry accepts); whether it was added."""
    if not _META_OPTION.search(text) or re.search(r"""import\s+(?:public\s+|weak\s+)?["']confluent/meta\.proto""",
                                                  text):
        return text, False
    syntax = re.search(r"""syntax\s*=\s*["'][^"']*["']\s*;""", text)
    at = syntax.end() if syntax else 0
    return f'{text[:at]}\nimport "{META_FILE}";\n{text[at:]}', True


def _known_set() -> bytes:
    """confluent/*.proto as a FileDescriptorSet (protoc's --descriptor_set_in): their text is not shipped."""
    default = descriptor_pool.Default()
    out = descriptor_pb2.FileDescriptorSet()
    for name in CONFLUENT_FILES:
        default.FindFileByName(name).CopyToProto(out.file.add())
    return out.SerializeToString()


def _compile(text: str, files: dict[str, descriptor_pb2.FileDescriptorProto]) -> descriptor_pb2.FileDescriptorProto:
    include = str(resources.files("grpc_tools") / "_proto")
    text, implicit_meta = _with_meta_import(text)
    with tempfile.TemporaryDirectory(prefix="brook-proto-") as tmp:
        root = Path(tmp)
        (root / MAIN_FILE).write_text(text, encoding="utf-8")
        (root / "known.pb").write_bytes(_known_set())
        known = root / "known" / "google" / "type"
        known.mkdir(parents=True)
        for proto in _google_type_protos():
            (known / proto.name).write_bytes(proto.read_bytes())
        for name, fd in files.items():  # references as descriptor sets: protoc reads them as imports
            copy = descriptor_pb2.FileDescriptorProto()
            copy.CopyFrom(fd)
            copy.name = name
            (root / "deps").mkdir(exist_ok=True)
            (root / "deps" / f"{len(list((root / 'deps').iterdir()))}.pb").write_bytes(
                descriptor_pb2.FileDescriptorSet(file=[copy]).SerializeToString())
        args = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root}", f"-I{include}", f"-I{root / 'known'}",
                f"--descriptor_set_out={root / 'out.pb'}", MAIN_FILE]
        sets = [root / "known.pb"] + (sorted((root / "deps").iterdir()) if files else [])
        args.insert(3, "--descriptor_set_in=" + ":".join(str(p) for p in sets))
        proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise ProtobufError(proc.stderr.strip().replace(str(root) + "/", "") or "protoc failed")
        fd = descriptor_pb2.FileDescriptorSet.FromString((root / "out.pb").read_bytes()).file[0]
        if implicit_meta:  # the schema as Confluent's registry holds it: the options without the import
            at = list(fd.dependency).index(META_FILE)
            del fd.dependency[at]
            for kind in (fd.public_dependency, fd.weak_dependency):
                kept = [i - (i > at) for i in kind if i != at]
                del kind[:]
                kind.extend(kept)
        return fd


def _google_type_protos() -> list[Path]:
    from google.type import date_pb2

    folder = Path(date_pb2.__file__).parent
    return [folder / f"{name}.proto" for name in GOOGLE_TYPES if (folder / f"{name}.proto").exists()]


def parse(text: str, files: dict[str, descriptor_pb2.FileDescriptorProto]) -> descriptor_pb2.FileDescriptorProto:
    fd = _decode(text)
    if fd is None:
        return _compile(text, files)
    if not fd.name:
        fd.name = MAIN_FILE
    _check(fd, files)
    return fd


def identity(fd: descriptor_pb2.FileDescriptorProto) -> str:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fd)
    copy.ClearField("name")
    copy.ClearField("source_code_info")
    if copy.syntax == "proto2":  # protoc leaves proto2's syntax empty
        copy.ClearField("syntax")
    return base64.b64encode(copy.SerializeToString(deterministic=True)).decode()


def serialized(fd: descriptor_pb2.FileDescriptorProto) -> str:
    """format=serialized: the base64 FileDescriptorProto that confluent-kafka's deserializer reads."""
    return base64.b64encode(fd.SerializeToString(deterministic=True)).decode()


# --- .proto text from a descriptor (for schemas registered as descriptors) ---

F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float", F.TYPE_INT64: "int64", F.TYPE_UINT64: "uint64",
            F.TYPE_INT32: "int32", F.TYPE_FIXED64: "fixed64", F.TYPE_FIXED32: "fixed32", F.TYPE_BOOL: "bool",
            F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "uint32", F.TYPE_SFIXED32: "sfixed32",
            F.TYPE_SFIXED64: "sfixed64", F.TYPE_SINT32: "sint32", F.TYPE_SINT64: "sint64"}


def field_type(f: descriptor_pb2.FieldDescriptorProto) -> str:
    return _SCALARS.get(f.type) or f.type_name.lstrip(".")


def to_text(fd: descriptor_pb2.FileDescriptorProto) -> str:
    out = [f'syntax = "{fd.syntax or "proto2"}";']
    if fd.package:
        out.append(f"package {fd.package};")
    for dep in fd.dependency:
        out.append(f'import "{dep}";')
    for name, value in fd.options.ListFields():
        out.append(f"option {name.name} = {_option_value(value)};")
    out.append("")
    for m in fd.message_type:
        out += _message(m, fd.syntax or "proto2", "")
    for e in fd.enum_type:
        out += _enum(e, "")
    for s in fd.service:
        out.append(f"service {s.name} {{")
        for m in s.method:
            cs, ss = "stream " if m.client_streaming else "", "stream " if m.server_streaming else ""
            out.append(f"  rpc {m.name} ({cs}{m.input_type.lstrip('.')}) returns ({ss}{m.output_type.lstrip('.')});")
        out.append("}")
    return "\n".join(out) + "\n"


def _option_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _field(f: descriptor_pb2.FieldDescriptorProto, syntax: str, maps: dict[str, descriptor_pb2.DescriptorProto],
           in_oneof: bool) -> str:
    entry = maps.get(f.type_name)
    if entry is not None:
        kind = f"map<{field_type(entry.field[0])}, {field_type(entry.field[1])}>"
    elif f.label == F.LABEL_REPEATED:
        kind = f"repeated {field_type(f)}"
    elif f.label == F.LABEL_REQUIRED:
        kind = f"required {field_type(f)}"
    elif in_oneof:
        kind = field_type(f)
    elif syntax == "proto2" or f.proto3_optional:
        kind = f"optional {field_type(f)}"
    else:
        kind = field_type(f)
    opts = []
    if f.HasField("default_value"):
        dv = f.default_value if f.type != F.TYPE_STRING else f'"{f.default_value}"'
        opts.append(f"default = {dv}")
    if f.json_name and f.json_name != _camel(f.name) and syntax != "proto2":
        opts.append(f'json_name = "{f.json_name}"')
    meta = _field_meta(f)
    if meta:
        params = ", ".join(f'{{ key: "{k}", value: "{v}" }}' for k, v in sorted(meta.items()))
        opts.append(f"(confluent.field_meta) = {{ params: [{params}] }}")
    suffix = f" [{', '.join(opts)}]" if opts else ""
    return f"{kind} {f.name} = {f.number}{suffix};"


def _field_meta(f: descriptor_pb2.FieldDescriptorProto) -> dict[str, str]:
    """The params of a field's (confluent.field_meta) option (ProtobufData's Decimal precision and scale)."""
    from confluent_kafka.schema_registry.confluent import meta_pb2

    if not f.HasField("options"):
        return {}
    opts = descriptor_pb2.FieldOptions.FromString(f.options.SerializeToString())  # the extension, now known
    meta = meta_pb2.field_meta  # type: ignore[attr-defined]  # declared by the generated module at run time
    return dict(opts.Extensions[meta].params) if opts.HasExtension(meta) else {}


def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _message(m: descriptor_pb2.DescriptorProto, syntax: str, indent: str) -> list[str]:
    out = [f"{indent}message {m.name} {{"]
    inner = indent + "  "
    maps = {f".{n.name}": n for n in m.nested_type if n.options.map_entry}
    # map entry type names are fully qualified; match them by their last component
    maps = {f.type_name: maps[f".{f.type_name.rsplit('.', 1)[-1]}"] for f in m.field
            if f".{f.type_name.rsplit('.', 1)[-1]}" in maps}
    real_oneofs = {i for i, _ in enumerate(m.oneof_decl)
                   if any(f.HasField("oneof_index") and f.oneof_index == i and not f.proto3_optional for f in m.field)}
    done_oneofs: set[int] = set()
    for f in m.field:
        if f.HasField("oneof_index") and f.oneof_index in real_oneofs:
            i = f.oneof_index
            if i in done_oneofs:
                continue
            done_oneofs.add(i)
            out.append(f"{inner}oneof {m.oneof_decl[i].name} {{")
            out += [f"{inner}  {_field(g, syntax, maps, True)}" for g in m.field
                    if g.HasField("oneof_index") and g.oneof_index == i]
            out.append(f"{inner}}}")
        else:
            out.append(f"{inner}{_field(f, syntax, maps, False)}")
    for r in m.reserved_range:
        out.append(f"{inner}reserved {r.start}" + (f" to {r.end - 1};" if r.end - 1 != r.start else ";"))
    if m.reserved_name:
        out.append(f"{inner}reserved {', '.join(repr(n).replace(chr(39), chr(34)) for n in m.reserved_name)};")
    for n in m.nested_type:
        if not n.options.map_entry:
            out += _message(n, syntax, inner)
    for e in m.enum_type:
        out += _enum(e, inner)
    out.append(f"{indent}}}")
    return out


def _enum(e: descriptor_pb2.EnumDescriptorProto, indent: str) -> list[str]:
    out = [f"{indent}enum {e.name} {{"]
    out += [f"{indent}  {v.name} = {v.number};" for v in e.value]
    out.append(f"{indent}}}")
    return out
