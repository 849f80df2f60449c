"""Brokers as a cluster on ZooKeeper, as Kafka 3.9 in ZooKeeper mode: ZooKeeper itself (Debian's package, started
as Kafka's script starts it), the ZooKeeper metadata store, broker registration. See docs/cluster.md."""
