"""Field transforms: InsertField, ReplaceField, MaskField, ValueToKey, ExtractField, HoistField (Kafka's names,
configs, messages). Each works on a schemaless map or a Struct with its schema."""

from __future__ import annotations

import datetime as dt
import decimal

from brook.connect.configdef import NO_DEFAULT, ConfigDef, ConfigError, Key
from brook.connect.data import (
    EPOCH,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    OPTIONAL_TIMESTAMP_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_SCHEMA,
    DataError,
    Struct,
    millis_to_timestamp,
    struct_schema,
)
from brook.connect.transforms.util import (
    KeyOrValue,
    config_error,
    field_path,
    java_class_name,
    require_map,
    require_struct,
    struct_with,
    syntax_version,
    variants,
)

REPLACE_NULL = Key("replace.null.with.default", "BOOLEAN", True, "Whether to replace fields that have a default "
                   "value and that are null to the default value. When set to true, the default value is used, "
                   "otherwise null is used.", importance="MEDIUM")


def non_empty_list(name: str, value: object) -> None:
    if not value:
        raise config_error(name, "", "Empty list")


def _spec(text: str | None) -> tuple[str, bool] | None:
    """InsertionSpec.parse: `name!` is required, `name?` (the default) optional."""
    if text is None:
        return None
    if text.endswith("!"):
        return text[:-1], False
    if text.endswith("?"):
        return text[:-1], True
    return text, True


class InsertField(KeyOrValue):
    PURPOSE = "field insertion"
    CONFIG_DEF = ConfigDef(
        Key("topic.field", "STRING", None, "Field name for Kafka topic. Suffix with <code>!</code> to make this a "
            "required field, or <code>?</code> to keep it optional (the default).", importance="MEDIUM"),
        Key("partition.field", "STRING", None, "Field name for Kafka partition.", importance="MEDIUM"),
        Key("offset.field", "STRING", None, "Field name for Kafka offset - only applicable to sink connectors.",
            importance="MEDIUM"),
        Key("timestamp.field", "STRING", None, "Field name for record timestamp.", importance="MEDIUM"),
        Key("static.field", "STRING", None, "Field name for static data field.", importance="MEDIUM"),
        Key("static.value", "STRING", None, "Static field value, if field name configured.", importance="MEDIUM"),
        REPLACE_NULL)

    def configure(self, props: dict[str, str]) -> None:
        super().configure(props)
        c = self.config
        self.specs = {k: _spec(c.get_str(f"{k}.field"))
                      for k in ("topic", "partition", "offset", "timestamp", "static")}
        if not any(self.specs.values()):
            raise ConfigError("No field insertion configured")
        if self.specs["static"] and c["static.value"] is None:
            raise config_error("static.value", "null", f"No value specified for static field: "
                               f"InsertionSpec{{name='{self.specs['static'][0]}', optional={'true'}}}")
        self.cache: dict = {}

    def _inserts(self, record, with_schema: bool) -> list[tuple[str, bool, object, object]]:
        """(name, optional, schema, value) of each configured insertion that applies to this record."""
        out: list[tuple[str, bool, object, object]] = []
        s = self.specs
        if s["topic"]:
            out.append((*s["topic"], STRING_SCHEMA, record.topic))
        if s["partition"] and record.kafka_partition is not None:
            out.append((*s["partition"], INT32_SCHEMA, record.kafka_partition))
        if s["offset"]:
            if not hasattr(record, "kafka_offset"):
                raise DataError(f"Only SinkRecord supported for [{self.PURPOSE}], found: "
                                "org.apache.kafka.connect.source.SourceRecord")
            out.append((*s["offset"], INT64_SCHEMA, record.kafka_offset))
        if s["timestamp"] and record.timestamp is not None:
            ts = millis_to_timestamp(record.timestamp) if with_schema else record.timestamp
            out.append((*s["timestamp"], TIMESTAMP_SCHEMA, ts))
        if s["static"] and self.config["static.value"] is not None:
            out.append((*s["static"], STRING_SCHEMA, self.config["static.value"]))
        return out

    def apply(self, record):
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            updated = dict(require_map(value, self.PURPOSE))
            for name, _, _, v in self._inserts(record, False):
                updated[name] = v
            return self.new_record(record, None, updated)
        struct = require_struct(value, self.PURPOSE)
        new_schema = self.cache.get(struct.schema)
        if new_schema is None:
            optional = {STRING_SCHEMA: OPTIONAL_STRING_SCHEMA, INT32_SCHEMA: OPTIONAL_INT32_SCHEMA,
                        INT64_SCHEMA: OPTIONAL_INT64_SCHEMA, TIMESTAMP_SCHEMA: OPTIONAL_TIMESTAMP_SCHEMA}
            extra = []
            for key, sch in (("topic", STRING_SCHEMA), ("partition", INT32_SCHEMA), ("offset", INT64_SCHEMA),
                             ("timestamp", TIMESTAMP_SCHEMA), ("static", STRING_SCHEMA)):
                if self.specs[key]:
                    name, opt = self.specs[key]
                    extra.append((name, optional[sch] if opt else sch))
            new_schema = struct_with(struct.schema, [(f.name, f.schema) for f in struct.schema.fields] + extra)
            self.cache[struct.schema] = new_schema
        updated = Struct(new_schema, {f.name: self._field(struct, f.name) for f in struct.schema.fields})
        for name, _, _, v in self._inserts(record, True):
            updated.put(name, v)
        return self.new_record(record, new_schema, updated)

    def _field(self, struct: Struct, name: str):
        return struct.get(name) if self.config["replace.null.with.default"] else struct.values.get(name)


class ReplaceField(KeyOrValue):
    PURPOSE = "field replacement"
    CONFIG_DEF = ConfigDef(
        Key("exclude", "LIST", [], "Fields to exclude. This takes precedence over the fields to include.",
            importance="MEDIUM"),
        Key("include", "LIST", [], "Fields to include. If specified, only these fields will be used.",
            importance="MEDIUM"),
        Key("renames", "LIST", [], "Field rename mappings.", importance="MEDIUM"),
        REPLACE_NULL)

    def configure(self, props: dict[str, str]) -> None:
        super().configure(props)
        self.renames: dict[str, str] = {}
        self.reverse: dict[str, str] = {}
        renames = self.config.get_list("renames")
        for mapping in renames:
            parts = mapping.split(":")
            if len(parts) != 2:
                raise config_error("renames", ",".join(renames), f"Invalid rename mapping: {mapping}")
            self.renames[parts[0]] = parts[1]
        self.cache: dict = {}
        self.exclude, self.include = self.config.get_list("exclude"), self.config.get_list("include")

    def keep(self, name: str) -> bool:
        return name not in self.exclude and (not self.include or name in self.include)

    def apply(self, record):
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            updated = {self.renames.get(k, k): v for k, v in require_map(value, self.PURPOSE).items() if self.keep(k)}
            return self.new_record(record, None, updated)
        struct = require_struct(value, self.PURPOSE)
        new_schema = self.cache.get(struct.schema)
        if new_schema is None:
            new_schema = struct_with(struct.schema, [(self.renames.get(f.name, f.name), f.schema)
                                                     for f in struct.schema.fields if self.keep(f.name)])
            self.cache[struct.schema] = new_schema
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        updated = Struct(new_schema, {self.renames.get(f.name, f.name): get(f.name)
                                      for f in struct.schema.fields if self.keep(f.name)})
        return self.new_record(record, new_schema, updated)


MASKS = {bool: False, int: 0, float: 0.0, decimal.Decimal: decimal.Decimal(0), str: "", dt.datetime: EPOCH}


class MaskField(KeyOrValue):
    PURPOSE = "mask fields"
    CONFIG_DEF = ConfigDef(
        Key("fields", "LIST", NO_DEFAULT, "Names of fields to mask.", non_empty_list),
        Key("replacement", "STRING", None, "Custom value replacement, that will be applied to all 'fields' values "
            "(numeric or non-empty string values only).", importance="LOW"),
        REPLACE_NULL)

    def configure(self, props):
        super().configure(props)
        if self.config["replacement"] == "":
            raise config_error("replacement", "", "String must be non-empty")

    def masked(self, value: object) -> object:
        if value is None:
            return None
        replacement = self.config["replacement"]
        if replacement is None:
            if type(value) in MASKS:
                return MASKS[type(value)]
            if isinstance(value, list):
                return []
            if isinstance(value, dict):
                return {}
            raise DataError(f"Cannot mask value of type: class {java_class_name(value)}")
        kinds = {int: int, float: float, str: str, decimal.Decimal: decimal.Decimal}
        if type(value) not in kinds:
            raise DataError(f"Cannot mask value of type class {java_class_name(value)} with custom replacement.")
        try:
            return kinds[type(value)](replacement)
        except (ValueError, decimal.InvalidOperation):
            raise DataError(f"Unable to convert {replacement} (class java.lang.String) to number") from None

    def apply(self, record):
        value = self.operating_value(record)
        if value is None:
            return record
        fields = self.config["fields"]
        if self.operating_schema(record) is None:
            updated = dict(require_map(value, self.PURPOSE))
            for f in fields:
                if f in updated:
                    updated[f] = self.masked(updated[f])
            return self.new_record(record, None, updated)
        struct = require_struct(value, self.PURPOSE)
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        updated = Struct(struct.schema, {f.name: self.masked(get(f.name)) if f.name in fields else get(f.name)
                                         for f in struct.schema.fields})
        return self.new_record(record, struct.schema, updated)


class ValueToKey(KeyOrValue):
    PURPOSE = "copying fields from value to key"
    CONFIG_DEF = ConfigDef(
        Key("fields", "LIST", NO_DEFAULT, "Field names on the record value to extract as the record key.",
            non_empty_list), REPLACE_NULL)

    def apply(self, record):
        fields = self.config["fields"]
        if record.value_schema is None:
            value = require_map(record.value, self.PURPOSE)
            key = {f: value.get(f) for f in fields}
            return record.new_record(record.topic, record.kafka_partition, None, key, record.value_schema,
                                     record.value, record.timestamp)
        struct = require_struct(record.value, self.PURPOSE)
        parts = []
        for f in fields:
            field = struct.schema.field(f)
            if field is None:
                raise DataError(f"Field does not exist: {f}")
            parts.append((f, field.schema))
        key_schema = struct_schema(parts)
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        key = Struct(key_schema, {f: get(f) for f in fields})
        return record.new_record(record.topic, record.kafka_partition, key_schema, key, record.value_schema,
                                 record.value, record.timestamp)


class ExtractField(KeyOrValue):
    PURPOSE = "field extraction"
    CONFIG_DEF = ConfigDef(
        Key("field", "STRING", NO_DEFAULT, "Field name to extract.", importance="MEDIUM"), REPLACE_NULL,
        Key("field.syntax.version", "STRING", "V1", "Defines the version of the syntax to access fields. If set to "
            "`V1`, then the field paths are limited to access the elements at the root level of the struct or map. "
            "If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted "
            "notation is used. If dots are already included in the field name, then backtick pairs can be used to "
            "wrap field names containing dots.", syntax_version))

    def configure(self, props):
        super().configure(props)
        self.path = field_path(self.config["field"], str(self.config["field.syntax.version"]))

    def apply(self, record):
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        *parents, last = self.path
        if schema is None:
            current = None if value is None else require_map(value, self.PURPOSE)
            for step in parents:  # SingleFieldPath.valueFrom(Map)
                if current is None:
                    break
                current = current.get(step)
                current = None if current is None else require_map(current, "nested field access")
            return self.new_record(record, None, None if current is None else current.get(last))
        if value is not None:
            require_struct(value, self.PURPOSE)
        struct, field_schema = value, schema
        for step in parents:  # SingleFieldPath.fieldFrom / valueFrom(Struct)
            field = field_schema.field(step)
            if field is None:
                raise DataError(f"Unknown field: {self.config['field']}")
            field_schema = field.schema
            struct = None if struct is None else struct.get(step)
            if struct is not None:
                require_struct(struct, "nested field access")
        field = field_schema.field(last)
        if field is None:
            raise DataError(f"Unknown field: {self.config['field']}")
        if struct is None:
            return self.new_record(record, field.schema, None)
        return self.new_record(record, field.schema, struct.get(last) if self.config["replace.null.with.default"]
                               else struct.values.get(last))


class HoistField(KeyOrValue):
    CONFIG_DEF = ConfigDef(
        Key("field", "STRING", NO_DEFAULT, "Field name for the single field that will be created in the resulting "
            "Struct or Map.", importance="MEDIUM"))

    def apply(self, record):
        name = self.config["field"]
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            return self.new_record(record, None, {name: value})
        new_schema = struct_schema([(name, schema)])
        return self.new_record(record, new_schema, Struct(new_schema, {name: value}))


InsertFieldKey, InsertFieldValue = variants(InsertField)
ReplaceFieldKey, ReplaceFieldValue = variants(ReplaceField)
MaskFieldKey, MaskFieldValue = variants(MaskField)
ExtractFieldKey, ExtractFieldValue = variants(ExtractField)
HoistFieldKey, HoistFieldValue = variants(HoistField)
