#!/usr/bin/env bash
# Kafka's bin/kafka-replica-verification.sh for a Brook checkout: runs the tool installed in the checkout's venv (./run.sh sets it up).
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/kafka-replica-verification" "$@"
