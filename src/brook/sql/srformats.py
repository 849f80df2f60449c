"""ksqlDB's schema-registry formats AVRO, JSON_SR and PROTOBUF: columns <-> Connect schemas (as ksqlDB's
ConnectSchemaTranslator does) and then Confluent's converters (brook.connect.sr_converters), so records carry
Confluent's wire format and the subjects `<topic>-value` / `<topic>-key` hold what ksqlDB registers: Avro records
`io.confluent.ksql.avro_schemas.KsqlDataSourceSchema` (nested structs `KsqlDataSourceSchema_<FIELD>`; keys
`io.confluent.ksql.avro_schemas.<Source>Key`), Protobuf messages `ConnectDefault1`, JSON schemas of objects, every
column nullable; KEY_SCHEMA_FULL_NAME / VALUE_SCHEMA_FULL_NAME name the Avro record or the Protobuf message.

Columns of a CREATE without columns are inferred from the subject's latest schema (or VALUE_SCHEMA_ID /
KEY_SCHEMA_ID), with ksqlDB's messages when the registry is not configured or the subject is absent."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from brook.connect import avrodata, jsonschemadata, protobufdata
from brook.connect.data import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    Schema,
    Struct,
    days_to_date,
    struct_schema,
    timestamp_to_millis,
)
from brook.sql import casts
from brook.sql.expressions import SqlError
from brook.sql.formats import SerdeError

AVRO_NAMESPACE = "io.confluent.ksql.avro_schemas"
AVRO_RECORD = AVRO_NAMESPACE + ".KsqlDataSourceSchema"
SCHEMA_TYPES = {"AVRO": "AVRO", "JSON_SR": "JSON", "PROTOBUF": "PROTOBUF"}
SERDES = tuple(SCHEMA_TYPES)
NOSR = "PROTOBUF_NOSR"  # Protobuf without the registry (sql/protobuf_nosr.py): a serde here, but nothing to infer
NOT_CONFIGURED = "KSQL is not configured to use a schema registry. To enable it, please set ksql.schema.registry.url"
DOCS = "https://docs.confluent.io/current/schema-registry/docs/"
PROTOBUF_DEFAULT_NAME = "ConnectDefault"  # ksqlDB's ProtobufSchemaTranslator ignores such a full name
_SIMPLE = {"BOOLEAN": "boolean", "INTEGER": "int32", "BIGINT": "int64", "DOUBLE": "float64", "STRING": "string",
           "BYTES": "bytes"}
_LOGICAL = {"TIMESTAMP": Schema("int64", True, name=TIMESTAMP, version=1),
            "DATE": Schema("int32", True, name=DATE, version=1), "TIME": Schema("int32", True, name=TIME, version=1)}


def subject(topic: str, is_key: bool) -> str:
    return f"{topic}-{'key' if is_key else 'value'}"


def _connect_type(t: tuple, fmt: str, name: str | None) -> Schema:
    """A column type as ksqlDB's Connect schema: optional, structs named after their path for Avro."""
    kind = t[0]
    if kind in _SIMPLE:
        return Schema(_SIMPLE[kind], True)
    if kind in _LOGICAL:
        return _LOGICAL[kind]
    if kind == "DECIMAL":
        return Schema("bytes", True, name=DECIMAL, version=1,
                      parameters=(("scale", str(t[2])), ("connect.decimal.precision", str(t[1]))))
    if kind == "ARRAY":
        return Schema("array", True, value_schema=_connect_type(t[1], fmt, name))
    if kind == "MAP":
        return Schema("map", True, key_schema=Schema("string"), value_schema=_connect_type(t[2], fmt, name))
    if kind == "STRUCT":
        fields = [(n, _connect_type(ft, fmt, f"{name}_{n}" if name else None)) for n, ft in t[1]]
        return struct_schema(fields, name=name, optional=True)
    raise SqlError(f"Type {kind} is not supported by the {fmt} format")


def key_schema_name(source: str) -> str:
    """ksqlDB's AvroFormat.getKeySchemaName: the record of an AVRO key is named after its source (`RIDER_COUNTS`:
    `io.confluent.ksql.avro_schemas.RiderCountsKey`), Guava's UPPER_UNDERSCORE to UPPER_CAMEL."""
    camel = "".join(w[:1].upper() + w[1:].lower() for w in source.split("_"))
    return f"{AVRO_NAMESPACE}.{camel}Key"


def full_names(props: dict, key_format: str, value_format: str, source: str, inherit: Any = None
               ) -> tuple[str | None, str | None]:
    """The schema full names of a CREATE's key and value (ksqlDB's CreateSourceProperties and
    CreateSourceAsProperties, then FormatProperties' checks): KEY_SCHEMA_FULL_NAME, VALUE_SCHEMA_FULL_NAME or the
    older VALUE_AVRO_SCHEMA_FULL_NAME; an AVRO key without one is named after the source; a CREATE ... AS SELECT
    (`inherit`: its source) keeps its source's Protobuf name when the format is the same (ksqlDB's Analyzer: the
    full name is PROTOBUF's one inheritable property)."""
    if props.get("VALUE_AVRO_SCHEMA_FULL_NAME") is not None and props.get("VALUE_SCHEMA_FULL_NAME") is not None:
        raise SqlError("Cannot supply both 'VALUE_AVRO_SCHEMA_FULL_NAME' and 'VALUE_SCHEMA_FULL_NAME' properties. "
                       "Please only set 'VALUE_SCHEMA_FULL_NAME'.")
    names: list[str | None] = []
    for is_key, fmt in ((True, key_format), (False, value_format)):
        given = props.get("KEY_SCHEMA_FULL_NAME") if is_key else props.get(
            "VALUE_AVRO_SCHEMA_FULL_NAME", props.get("VALUE_SCHEMA_FULL_NAME"))
        schema_id = props.get("KEY_SCHEMA_ID" if is_key else "VALUE_SCHEMA_ID")
        name = None if given is None else str(given)
        if name is not None:
            if fmt not in SERDES:  # only the schema-registry formats take one
                extra = ", schemaId" if schema_id is not None else ""
                raise SqlError(f"{fmt} does not support the following configs: [fullSchemaName{extra}]")
            if not name.strip():
                extra = f", schemaId={schema_id}" if schema_id is not None else ""
                raise SqlError(f"fullSchemaName cannot be empty. Format configuration: {{fullSchemaName={extra}}}")
            name = name.strip()
        elif inherit is not None and fmt == "PROTOBUF" and \
                fmt == (inherit.key_format if is_key else inherit.value_format):
            name = inherit.key_full_name if is_key else inherit.value_full_name
        elif is_key and fmt == "AVRO":
            name = key_schema_name(source)
        names.append(name)
    return names[0], names[1]


def connect_schema(fmt: str, columns: list[tuple[str, tuple]], unwrapped: bool, full_name: str | None = None
                   ) -> Schema:
    """The Connect schema ksqlDB registers for columns: an Avro record is named `full_name` (else
    KsqlDataSourceSchema), a Protobuf message too (else ConnectDefault1); a JSON schema has no name."""
    name = None
    if fmt == "AVRO":
        name = full_name or AVRO_RECORD
    elif fmt == "PROTOBUF" and full_name and not full_name.startswith(PROTOBUF_DEFAULT_NAME):
        name = full_name
    nested = name if fmt == "AVRO" else None  # Avro names nested records after their path
    if unwrapped:
        return _connect_type(columns[0][1], fmt, nested)
    return struct_schema([(n, _connect_type(t, fmt, f"{nested}_{n}" if nested else None)) for n, t in columns],
                         name=name)


def sql_type(schema: Schema, upper: bool = False) -> tuple:
    """ksqlDB's type for a Connect schema read from the registry (schema inference); `upper`: struct field names
    upper-cased (ksqlDB's UPPERCASE_FIELD_NAME policy)."""
    if schema.name == TIMESTAMP:
        return ("TIMESTAMP",)
    if schema.name == DATE:
        return ("DATE",)
    if schema.name == TIME:
        return ("TIME",)
    if schema.name == DECIMAL:
        params = schema.params()
        return ("DECIMAL", int(params.get("connect.decimal.precision", "64")), int(params.get("scale", "0")))
    kinds = {"int8": "INTEGER", "int16": "INTEGER", "int32": "INTEGER", "int64": "BIGINT", "float32": "DOUBLE",
             "float64": "DOUBLE", "boolean": "BOOLEAN", "string": "STRING", "bytes": "BYTES"}
    if schema.type in kinds:
        return (kinds[schema.type],)
    if schema.type == "array":
        assert schema.value_schema is not None
        return ("ARRAY", sql_type(schema.value_schema, upper))
    if schema.type == "map":
        assert schema.value_schema is not None
        return ("MAP", ("STRING",), sql_type(schema.value_schema, upper))
    return ("STRUCT", [(f.name.upper() if upper else f.name, sql_type(f.schema, upper)) for f in schema.fields])


def _registered_connect_schema(fmt: str, registered: Any, client: Any, schema_id: int, full_name: str | None,
                               side: str, where: str) -> tuple[Schema, str | None]:
    """The Connect schema of a registered schema and its full name (ksqlDB's ParsedSchema.name()); for Protobuf,
    the message `full_name` names (ProtobufSchema.copy(name)), else the first."""
    text = registered.schema_str
    if fmt == "AVRO":
        doc = json.loads(text)
        name = doc.get("name") if isinstance(doc, dict) else None
        if name and "." not in name and doc.get("namespace"):
            name = f"{doc['namespace']}.{name}"
        return avrodata.to_connect_schema(doc), name
    if fmt == "JSON_SR":
        return jsonschemadata.to_connect_schema(json.loads(text)), None
    from brook.registry import protobuf
    from brook.registry.formats import ProtobufFormat

    fd, pool = ProtobufFormat.registered_pool(client, schema_id)
    file = pool.FindFileByName(fd.name)
    messages = list(file.message_types_by_name.values())
    if full_name and not full_name.startswith(PROTOBUF_DEFAULT_NAME):
        desc = next((m for m in messages if m.full_name == full_name), None)
        if desc is None:  # ksqlDB fails on a null descriptor here (its reason: null)
            text = text if not protobuf.is_serialized(text) else protobuf.to_text(fd)
            raise SqlError(f"Unable to verify if the {side} schema for {where} is compatible "
                           f"with ksqlDB.\nReason: the schema has no message named {full_name}\n\nPlease see "
                           "https://github.com/confluentinc/ksql/issues/ to see if this particular reason is already "
                           "known.\nIf not, please log a new issue, including this full error message.\n"
                           f"Schema:{text}")
    else:
        if len(messages) + len(fd.enum_type) > 1:  # ksqlDB's throwOnMultiSchemaDefinitions
            prop = "KEY_SCHEMA_FULL_NAME" if side == "key" else "VALUE_SCHEMA_FULL_NAME"
            listed = "\n".join(f"- {m.full_name}" for m in messages) + "".join(
                f"\n- {fd.package + '.' if fd.package else ''}{e.name}" for e in fd.enum_type)
            raise SqlError(f"{side.capitalize()} schema has multiple schema definitions. \n\n{listed}\n\n"
                           f"Please specify a schema full name in the WITH clause using {prop}")
        desc = messages[0]
    schema = protobufdata.to_connect_schema(desc, unwrap=True)  # wrappers inferred as their scalars
    # named in full: the converter writes the message of that name in the registered schema
    return Schema(**{**schema.__dict__, "name": desc.full_name}), desc.full_name


def physical_schema(client: Any, fmt: str, schema_id: int, full_name: str | None) -> Schema:
    """The Connect schema of the registered schema `schema_id` (for Protobuf, of the message `full_name` names):
    records of a side whose columns were inferred are written with it, as ksqlDB's *SRSchemaDataTranslator."""
    # Protobuf's in the serialized form: the client caches a schema by id whatever form was asked, and
    # confluent-kafka's deserializer, sharing this client, reads that form
    registered = client.get_schema(schema_id, fmt="serialized") if fmt == "PROTOBUF" else client.get_schema(schema_id)
    return _registered_connect_schema(fmt, registered, client, schema_id, full_name, "value", "")[0]


def infer(registry: dict[str, str], fmt: str, topic: str, is_key: bool, schema_id: int | None,
          full_name: str | None = None) -> tuple[list, int, str | None]:
    """The columns of `<topic>-value` (or -key): ksqlDB's SchemaRegistryTopicSchemaSupplier; with the schema id
    they came from and the schema's full name (for Protobuf, that of the message `full_name` names). Field names
    are upper-cased unless the schema id was given (ksqlDB's SchemaTranslationPolicy); an AVRO or JSON_SR key is
    one column ROWKEY of the schema's type (ksqlDB infers keys unwrapped where the format can)."""
    side = "key" if is_key else "value"
    upper = schema_id is None
    where = f"topic: {topic}" + (f", schema id: {schema_id}" if schema_id is not None else "")
    failed = f"Schema registry fetch for topic {side} request failed for {where}"
    if not registry.get("schema.registry.url"):
        raise SqlError(f"{failed}\nCaused by: {NOT_CONFIGURED}")
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    from brook.registry.client import registry_client

    client = registry_client(registry)
    subj = subject(topic, is_key)
    try:
        if schema_id is None:
            schema_id = client.get_latest_version(subj).schema_id
            assert schema_id is not None
        registered = client.get_schema(schema_id)
    except SchemaRegistryError as e:
        if e.http_status_code in (401, 403, 404):
            raise SqlError(_not_found(topic, is_key, schema_id)) from None
        raise SqlError(f"{failed}\nCaused by: {e}") from None
    except Exception as e:  # noqa: BLE001 - the registry unreachable
        raise SqlError(f"{failed}\nCaused by: {e}") from None
    actual = registered.schema_type or "AVRO"
    if actual != SCHEMA_TYPES[fmt]:
        prop = "KEY_FORMAT" if is_key else "VALUE_FORMAT"
        raise SqlError(f"{side.capitalize()} schema is not in the expected format. You may want to set {prop} to "
                       f"'{actual}'.\n{where}\nexpected format: {SCHEMA_TYPES[fmt]}\nactual format from Schema "
                       f"Registry: {actual}")
    schema, name = _registered_connect_schema(fmt, registered, client, schema_id, full_name, side, where)
    if schema.type != "struct" or (is_key and fmt != "PROTOBUF"):
        return [("ROWKEY" if is_key else "ROWVAL", sql_type(schema, upper))], schema_id, name
    columns = [(f.name.upper() if upper else f.name, sql_type(f.schema, upper)) for f in schema.fields]
    if is_key and len(columns) > 1:
        raise SqlError(f"The key schema for {where} contains multiple columns, which is not supported by "
                       f"ksqlDB at this time.\nSchema:{registered.schema_str}")
    return columns, schema_id, name


def _not_found(topic: str, is_key: bool, schema_id: int | None) -> str:
    subj = subject(topic, is_key)
    schema = f"Schema Id: {schema_id}\n" if schema_id is not None else ""
    return (f"Schema for message {'keys' if is_key else 'values'} on topic '{topic}' does not exist in the Schema "
            f"Registry.\nSubject: {subj}\n{schema}Possible causes include:\n- The topic itself does not exist\n"
            "\t-> Use SHOW TOPICS; to check\n- Messages on the topic are not serialized using a format Schema "
            f"Registry supports\n\t-> Use PRINT '{topic}' FROM BEGINNING; to verify\n- Messages on the topic have "
            "not been serialized using a Confluent Schema Registry supported serializer\n\t-> See "
            f"{DOCS}serializer-formatter.html\n- The schema is registered on a different instance of the Schema "
            f"Registry\n\t-> Use the REST API to list available subjects\t{DOCS}api.html#get--subjects\n"
            f"- You do not have permissions to access the Schema Registry.\n\t-> See {DOCS}security.html")


def require_registry(url: str, fmt: str, topic: str) -> None:
    if not url:
        raise SqlError(f"Cannot create topic '{topic}' with format {fmt} without configuring "
                       "'ksql.schema.registry.url'")


class SrSerde:
    """One source's key or value serde: a Confluent converter (its serializers and schema-id caches) per serde."""

    def __init__(self, registry: dict[str, str], fmt: str, topic: str, is_key: bool, columns: list[tuple[str, tuple]],
                 unwrapped: bool, schema_id: int | None = None, full_name: str | None = None,
                 nullable: str | None = None) -> None:
        from brook.connect.sr_converters import AvroConverter, JsonSchemaConverter, ProtobufConverter

        self.fmt, self.topic, self.is_key, self.columns = fmt, topic, is_key, columns
        # a single key (or WRAP_SINGLE_VALUE=false value) is written unwrapped; Protobuf always needs a message
        self.unwrapped = (unwrapped or (is_key and len(columns) == 1)) and fmt not in ("PROTOBUF", NOSR)
        self._upper = {n.upper(): n for n, _ in columns}
        # struct field names follow the column types; STRING columns take what other types were written
        self._types = {n: t for n, t in columns if _conformed(t)}
        if fmt == NOSR:  # no registry: the columns' message, written bare
            from brook.sql.protobuf_nosr import ProtobufNoSrConverter

            self.schema = connect_schema("PROTOBUF", columns, False, full_name)
            self.converter: Any = ProtobufNoSrConverter(self.schema, nullable)
            return
        cls = {"AVRO": AvroConverter, "JSON_SR": JsonSchemaConverter, "PROTOBUF": ProtobufConverter}[fmt]
        self.converter = cls()
        settings = dict(registry)  # the URL, basic.auth.* and schema.registry.ssl.* of ksql.schema.registry.*
        settings["decimal.format"] = "NUMERIC"  # KsqlJsonSerdeFactory's: a JSON_SR DECIMAL is a number
        if schema_id is not None:  # inferred columns: records are written with the schema they came from
            settings.update({"auto.register.schemas": "false", "use.schema.id": str(schema_id)})
        if nullable is not None:  # PROTOBUF_NULLABLE_REPRESENTATION: ProtobufData's optional/wrapper.for.nullables
            settings[f"{nullable}.for.nullables"] = "true"
        self.converter.configure(settings, is_key)
        if isinstance(self.converter, ProtobufConverter):
            self.converter.unwrap = True  # ksqlDB reads google.protobuf.*Value fields as their scalars
        self.schema = connect_schema(fmt, columns, self.unwrapped, full_name) if schema_id is None else \
            physical_schema(self.converter.client, fmt, schema_id, full_name)

    def register(self, only_if_absent: bool = False) -> None:
        """Register the schema now, as ksqlDB does when it creates a source or a query's sink."""
        if self.fmt == NOSR:
            return
        subj = subject(self.topic, self.is_key)
        client = self.converter.client
        try:
            if only_if_absent and subj in client.get_subjects():
                return
            client.register_schema(subj, self.converter.registry_schema(self.schema))
        except Exception as e:  # noqa: BLE001 - the registry's errors (incompatible, unreachable)
            raise SqlError(f"Could not register schema for topic: {e}") from None

    def serialize(self, row: dict[str, Any] | None) -> bytes | None:
        if row is None or not self.columns:
            return None
        try:
            if self.unwrapped:
                name, _ = self.columns[0]
                value = _to_connect_value(self.schema, row.get(name))
                return None if value is None else self.converter.from_connect_data(self.topic, self.schema, value)
            value = Struct(self.schema, {f.name: _to_connect_value(f.schema, row.get(
                f.name, row.get(self._upper.get(f.name.upper(), f.name)))) for f in self.schema.fields})
            return self.converter.from_connect_data(self.topic, self.schema, value)
        except Exception as e:  # noqa: BLE001 - the converter's DataError, the registry's errors
            raise SerdeError(str(e)) from e

    def deserialize(self, data: bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        try:
            schema, value = self.converter.to_connect_data(self.topic, data)
        except Exception as e:  # noqa: BLE001
            raise SerdeError(str(e)) from e
        if self.unwrapped or not isinstance(value, Struct):
            row = {self.columns[0][0]: _to_sql_value(schema, value)}
        else:
            row = {n: None for n, _ in self.columns}
            for f in value.schema.fields:
                name = f.name if f.name in row else self._upper.get(f.name.upper())
                if name is not None:
                    row[name] = _to_sql_value(f.schema, value.get(f.name))
        for name, t in self._types.items():
            row[name] = _conform(row.get(name), t)
        return row


def _conformed(t: tuple) -> bool:
    return t[0] in ("STRUCT", "STRING", "DECIMAL", "DOUBLE") or (t[0] == "ARRAY" and _conformed(t[1])) or \
        (t[0] == "MAP" and _conformed(t[2]))


def _conform(v: Any, t: tuple) -> Any:
    """A read value's struct field names as its column type spells them (upper-cased by schema inference); a
    number or boolean read into a STRING as Java's String.valueOf writes it (ksqlDB's ConnectDataTranslator)."""
    if v is None:
        return None
    if t[0] == "STRING" and isinstance(v, (bool, int, float, decimal.Decimal)):
        return str(v).lower() if isinstance(v, bool) else java_double(v) if isinstance(v, float) else str(v)
    if t[0] == "DECIMAL" and len(t) == 3 and isinstance(v, (int, float, decimal.Decimal)):
        return casts.scaled(v, t[2])  # the column's scale (a schema's own may differ)
    if t[0] == "DOUBLE" and isinstance(v, decimal.Decimal):
        return float(v)
    if t[0] == "STRUCT" and isinstance(v, dict):
        upper = {str(k).upper(): x for k, x in v.items()}
        return {n: _conform(v.get(n, upper.get(n.upper())), ft) for n, ft in t[1]}
    if t[0] == "ARRAY" and isinstance(v, list):
        return [_conform(x, t[1]) for x in v]
    if t[0] == "MAP" and isinstance(v, dict):
        return {k: _conform(x, t[2]) for k, x in v.items()}
    return v


def _to_connect_value(schema: Schema, v: Any) -> Any:
    """An SQL value (ints for TIMESTAMP/DATE/TIME, Decimals for DECIMAL, dicts for STRUCT) as Connect's; a NULL as
    its schema's default (Struct.get), which a schema given by VALUE_SCHEMA_ID may have."""
    if v is None:
        return schema.default
    if schema.name == TIMESTAMP:
        return avrodata.EPOCH + dt.timedelta(milliseconds=int(v))
    if schema.name == DATE:
        return days_to_date(int(v))
    if schema.name == TIME:
        return avrodata.EPOCH + dt.timedelta(milliseconds=int(v))
    if schema.name == DECIMAL:
        return casts.scaled(v, int(schema.params()["scale"]))
    if schema.type == "struct":
        upper = {str(k).upper(): x for k, x in v.items()}
        return Struct(schema, {f.name: _to_connect_value(f.schema, v.get(f.name, upper.get(f.name.upper())))
                               for f in schema.fields})
    if schema.type == "array":
        assert schema.value_schema is not None
        return [_to_connect_value(schema.value_schema, x) for x in v]
    if schema.type == "map":
        assert schema.value_schema is not None
        return {str(k): _to_connect_value(schema.value_schema, x) for k, x in v.items()}
    if schema.type == "float64":
        return float(v)
    return v


def _to_sql_value(schema: Schema | None, v: Any) -> Any:
    """A Connect value as the SQL engine's (the inverse of _to_connect_value)."""
    if v is None or schema is None:
        return v
    if schema.name == TIMESTAMP:
        return timestamp_to_millis(v)
    if schema.name == DATE:
        return v if isinstance(v, int) else (v - avrodata.EPOCH).days
    if schema.name == TIME:
        return timestamp_to_millis(v) % 86400000
    if isinstance(v, Struct):
        return {f.name: _to_sql_value(f.schema, v.get(f.name)) for f in v.schema.fields}
    if schema.type == "array":
        return [_to_sql_value(schema.value_schema, x) for x in v]
    if schema.type == "map":
        return {k: _to_sql_value(schema.value_schema, x) for k, x in v.items()}
    return v


def java_double(v: float) -> str:
    """Double.toString: 1.0, 1.0E10, 1.5E-5."""
    if 1e-3 <= abs(v) < 1e7 or v == 0 or v != v or v in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(repr(v), repr(v))
    sign, digits, exp = decimal.Decimal(repr(v)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(digits) - 1 + int(exp)}"
