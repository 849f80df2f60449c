"""Confluent's JDBC connectors (io.confluent.connect.jdbc) on SQLAlchemy Core: a source that copies tables or a
query into topics (bulk, incrementing, timestamp, timestamp+incrementing) and a sink that writes records into
tables (insert, upsert, update; deletes on tombstones; auto.create, auto.evolve), with Confluent's configs."""
