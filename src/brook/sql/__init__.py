"""Streaming SQL as ksqlDB does it (issue 15): a Kafka client with ksqlDB REST API."""
