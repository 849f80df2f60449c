"""Config tables in Kafka's ConfigDef style: one declarative row per config (name, type, default, validator)."""
