#!/usr/bin/env bash
# Sets up Brook (a Python venv with its pinned dependencies) and starts one broker on localhost:9092,
# data in ./data/brook-logs. Extra arguments go to kafka-server-start (e.g. config/server.properties).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/setup.sh
if [ $# -eq 0 ]; then set -- config/server.properties; fi
exec .venv/bin/kafka-server-start "$@"
