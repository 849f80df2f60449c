#!/usr/bin/env bash
# Sets up Brook (the venv, and Debian's zookeeper when missing), then starts ZooKeeper on localhost:2181 and three
# brokers on localhost:9092, 9093 and 9094 (broker.id 1, 2, 3; data and logs in ./data/cluster); Ctrl-C stops them
# all. Extra arguments go to brook-cluster (--brokers, --port, --zookeeper-port, --data-dir, --override k=v).
set -euo pipefail
cd "$(dirname "$0")"
BROOK_ZOOKEEPER=1 . scripts/setup.sh
exec .venv/bin/brook-cluster "$@"
