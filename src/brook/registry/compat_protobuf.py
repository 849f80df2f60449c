"""Protobuf compatibility after Confluent's rules (ProtobufSchema's Difference types): what a message's wire
format can and cannot survive.  Works on FileDescriptorProtos; returns (change type, path) pairs."""

from __future__ import annotations

from google.protobuf import descriptor_pb2

from brook.registry.protobuf import field_type

F = descriptor_pb2.FieldDescriptorProto
Issue = tuple[str, str]

# scalar kinds whose wire encodings read as each other (Confluent's compatible scalar groups)
_GROUPS = ({F.TYPE_INT32, F.TYPE_UINT32, F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_BOOL},
           {F.TYPE_SINT32, F.TYPE_SINT64}, {F.TYPE_FIXED32, F.TYPE_SFIXED32}, {F.TYPE_FIXED64, F.TYPE_SFIXED64},
           {F.TYPE_STRING, F.TYPE_BYTES})
_NAMED = (F.TYPE_MESSAGE, F.TYPE_ENUM, F.TYPE_GROUP)


def _messages(fd: descriptor_pb2.FileDescriptorProto) -> dict[str, descriptor_pb2.DescriptorProto]:
    out: dict[str, descriptor_pb2.DescriptorProto] = {}

    def walk(prefix: str, msgs) -> None:  # noqa: ANN001 - a repeated DescriptorProto field
        for m in msgs:
            if m.options.map_entry:
                continue
            name = f"{prefix}{m.name}"
            out[name] = m
            walk(f"{name}.", m.nested_type)

    walk("", fd.message_type)
    return out


def _short(type_name: str, package: str) -> str:
    name = type_name.lstrip(".")
    return name[len(package) + 1:] if package and name.startswith(package + ".") else name


def check(reader: descriptor_pb2.FileDescriptorProto, writer: descriptor_pb2.FileDescriptorProto) -> list[Issue]:
    issues: list[Issue] = []
    if reader.package != writer.package:
        issues.append(("PACKAGE_CHANGED", "#/"))
    rm, wm = _messages(reader), _messages(writer)
    for name, w in wm.items():
        r = rm.get(name)
        if r is None:
            issues.append(("MESSAGE_REMOVED", f"#/{name}"))
            continue
        issues += _message(name, r, w, reader.package, writer.package)
    return issues


def _oneof(m: descriptor_pb2.DescriptorProto, f: descriptor_pb2.FieldDescriptorProto) -> str | None:
    if f.HasField("oneof_index") and not f.proto3_optional:
        return m.oneof_decl[f.oneof_index].name
    return None


def _message(name: str, r: descriptor_pb2.DescriptorProto, w: descriptor_pb2.DescriptorProto, rpkg: str,
             wpkg: str) -> list[Issue]:
    issues: list[Issue] = []
    rf = {f.number: f for f in r.field}
    wf = {f.number: f for f in w.field}
    oneofs_reported: set[str] = set()
    for num, f in wf.items():
        path = f"#/{name}/{num}"
        g = rf.get(num)
        if g is None:
            if f.label == F.LABEL_REQUIRED:
                issues.append(("REQUIRED_FIELD_REMOVED", path))
            if _oneof(w, f) is not None:
                issues.append(("ONEOF_FIELD_REMOVED", path))
            continue
        if (f.type in _NAMED) != (g.type in _NAMED):
            issues.append(("FIELD_KIND_CHANGED", path))
        elif f.type in _NAMED:
            if f.type != g.type or _short(f.type_name, wpkg) != _short(g.type_name, rpkg):
                issues.append(("FIELD_NAMED_TYPE_CHANGED", path))
        elif f.type != g.type and not any(f.type in s and g.type in s for s in _GROUPS):
            issues.append(("FIELD_SCALAR_KIND_CHANGED", path))
        if (f.label == F.LABEL_REPEATED) != (g.label == F.LABEL_REPEATED) and \
                (f.type in (F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_MESSAGE) or g.type in _NAMED):
            issues.append(("FIELD_KIND_CHANGED", path))
        wo, ro = _oneof(w, f), _oneof(r, g)
        if wo is None and ro is not None and ro not in oneofs_reported:
            moved = [x for x in r.field if _oneof(r, x) == ro and x.number in wf and _oneof(w, wf[x.number]) is None]
            existing = [x for x in r.field if _oneof(r, x) == ro and x.number in wf and _oneof(w, wf[x.number])]
            if existing or len(moved) > 1:
                oneofs_reported.add(ro)
                issues.append(("FIELD_MOVED_TO_EXISTING_ONEOF" if existing else "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
                               path))
    for num, g in rf.items():
        if num not in wf and g.label == F.LABEL_REQUIRED:
            issues.append(("REQUIRED_FIELD_ADDED", f"#/{name}/{num}"))
    return sorted(set(issues))


__all__ = ["check", "field_type"]
