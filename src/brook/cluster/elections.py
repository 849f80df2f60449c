"""Kafka's PartitionLeaderElectionAlgorithms (ZooKeeper mode): who leads a partition after a change, and its ISR.
Pure functions over the assignment, the ISR and the live brokers; each returns (leader, isr) or None when no
replica qualifies."""

from __future__ import annotations

from collections.abc import Collection, Sequence

Election = tuple[int, list[int]] | None


def offline(assignment: Sequence[int], isr: Sequence[int], live: Collection[int], unclean: bool) -> Election:
    """offlinePartitionLeaderElection: the first live ISR replica in assignment order; with unclean election
    enabled, else the first live replica, which alone makes the new ISR."""
    leader = next((r for r in assignment if r in live and r in isr), None)
    if leader is not None:
        return leader, [r for r in isr if r in live]
    if unclean:
        leader = next((r for r in assignment if r in live), None)
        if leader is not None:
            return leader, [leader]
    return None


def reassignment(target: Sequence[int], isr: Sequence[int], live: Collection[int]) -> Election:
    """reassignPartitionLeaderElection: the first live ISR replica of the target replicas."""
    leader = next((r for r in target if r in live and r in isr), None)
    return None if leader is None else (leader, list(isr))


def preferred(assignment: Sequence[int], isr: Sequence[int], live: Collection[int]) -> Election:
    """preferredReplicaPartitionLeaderElection: the first replica of the assignment, when live and in the ISR."""
    if assignment and assignment[0] in live and assignment[0] in isr:
        return assignment[0], list(isr)
    return None


def controlled_shutdown(assignment: Sequence[int], isr: Sequence[int], live: Collection[int],
                        shutting_down: Collection[int]) -> Election:
    """controlledShutdownPartitionLeaderElection: the first live ISR replica not shutting down; the brokers
    shutting down leave the ISR."""
    leader = next((r for r in assignment if r in live and r in isr and r not in shutting_down), None)
    return None if leader is None else (leader, [r for r in isr if r not in shutting_down])
