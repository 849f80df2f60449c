"""Kafka's command-line tools (kafka-topics, kafka-console-producer, ...), one module per tool.

Each tool is a client: it talks to a broker only through confluent-kafka, never through broker internals, so it
works against Apache Kafka as well as Brook. Flags, defaults, output and exit codes follow Kafka 3.9's tools.
"""
