"""A schema registry with Confluent Schema Registry's REST API, storing its state in the `_schemas` topic."""
