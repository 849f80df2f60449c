"""The classic consumer-group protocol: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead."""
