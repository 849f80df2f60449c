"""Kafka's on-disk log: segments, sparse indexes, checkpoints, recovery. Plain synchronous classes."""
