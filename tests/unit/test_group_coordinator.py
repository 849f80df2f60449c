"""The group coordinator's state machine without a socket: GroupMetadata's transitions, eager and cooperative
rebalances, static members (KIP-345, KIP-814), session and rebalance timeouts, group.initial.rebalance.delay.ms,
group.max.size, KIP-394 member ids, committed offsets (commit, fetch, require_stable, expiry, delete), unloading."""

from __future__ import annotations

import itertools
import struct

import pytest

from brook.coordinator.group.config import GroupConfig
from brook.coordinator.group.coordinator import GroupCoordinatorShard
from brook.coordinator.group.group import Group, GroupState, IllegalGroupTransition
from brook.coordinator.group.membership import JoinResult
from brook.coordinator.timer import Timer
from brook.errors import ErrorCode
from brook.protocol.coordinator_records import GroupMetadataKey, OffsetCommitKey

E, PR, CR, S, D = (GroupState.EMPTY, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE,
                   GroupState.STABLE, GroupState.DEAD)
# Kafka's GroupMetadata validPreviousStates as (from, to) pairs, written out independently of Brook's table
KAFKA_ALLOWED = {(E, PR), (E, D), (PR, CR), (PR, E), (PR, D), (CR, S), (CR, PR), (CR, D), (S, PR), (S, D), (D, D)}
RANGE = [("range", b"range-meta")]


class Shard:
    """One shard, a hand-driven clock, and the answers of requests that waited (by token)."""

    def __init__(self, **config: int) -> None:
        settings = {"min_session_timeout_ms": 10, "initial_rebalance_delay_ms": 0, **config}
        self.timer = Timer()
        self.shard = GroupCoordinatorShard(0, GroupConfig(**settings), self.timer)
        self.now = 1_000_000
        self.tokens = itertools.count(1)
        self.answers: dict[int, object] = {}
        self.batches: list[list] = []
        self.full = False  # the log refuses every append (a full disk)

    def _take(self, response):  # type: ignore[no-untyped-def]
        """What the runtime does with an operation's output: append (or, while `full`, refuse) its records."""
        result = self.shard.out.result(response)
        for a in result.appends:
            if self.full:
                if a.refused is not None:
                    response = a.refused(ErrorCode.not_coordinator)
                continue
            self.batches.append(a.records)
            if a.apply is not None:
                a.apply()
        self.answers.update(result.completions)
        return response

    def group(self, group_id: str = "g") -> Group:
        return self.shard.groups[group_id]

    def join(self, member_id: str = "", instance_id: str | None = None, protocols=RANGE,  # type: ignore[no-untyped-def]
             session: int = 10_000, rebalance: int = 30_000, v4: bool = False, group: str = "g",
             client_id: str = "c"):
        """JoinGroup: the answer now, or the token its answer will come under."""
        token = next(self.tokens)
        r = self._take(self.shard.membership.join(token, group, member_id, instance_id, "consumer", protocols,
                                                  session, rebalance, client_id, "/127.0.0.1", v4, self.now))
        return token if r is None else r

    def sync(self, member_id: str, generation: int, assignments: dict[str, bytes] | None = None,  # type: ignore[no-untyped-def]
             instance_id: str | None = None, group: str = "g"):
        token = next(self.tokens)
        r = self._take(self.shard.membership.sync(token, group, generation, member_id, instance_id, None, None,
                                                  assignments or {}, self.now))
        return token if r is None else r

    def heartbeat(self, member_id: str, generation: int, instance_id: str | None = None,
                  group: str = "g") -> ErrorCode:
        return self._take(self.shard.membership.heartbeat(group, generation, member_id, instance_id, self.now))

    def leave(self, member_id: str, instance_id: str | None = None, group: str = "g") -> list[ErrorCode]:
        return self._take(self.shard.membership.leave(group, [(member_id, instance_id)], self.now))[1]

    def commit(self, offsets: dict, generation: int = -1, member_id: str = "", group: str = "g") -> ErrorCode:  # type: ignore[type-arg]
        return self._take(self.shard.offsets.commit(group, generation, member_id, None, offsets, self.now))

    def txn_commit(self, producer_id: int, offsets: dict, group: str = "g") -> ErrorCode:  # type: ignore[type-arg]
        return self._take(self.shard.offsets.txn_commit(group, producer_id, 0, -1, "", None, offsets, self.now))

    def complete_txn(self, producer_id: int, commit: bool) -> None:
        self._take(self.shard.offsets.complete_txn(producer_id, commit))

    def delete_group(self, group: str = "g") -> ErrorCode:
        return self._take(self.shard.delete_group(group, self.now))

    def advance(self, ms: int) -> None:
        """Move the clock, running each deadline as the broker's timer would."""
        end = self.now + ms
        while (at := self.timer.next_deadline()) is not None and at <= end:
            self.now = at
            for key in self.timer.pop_due(at):
                self.shard.on_timer(key, at)
            self._take(None)
        self.now = end

    def stable_pair(self) -> tuple[str, str]:
        """Two dynamic members in a Stable group (generation 1): (leader, follower)."""
        ra = self.answers.pop(self.join(client_id="a"))
        assert ra.error == ErrorCode.none and ra.generation == 1
        b_token = self.join(client_id="b")
        assert self.group().state is PR
        a2 = self.join(ra.member_id)
        rb, ra2 = self.answers.pop(b_token), self.answers.pop(a2)
        assert ra2.generation == rb.generation == 2 and ra2.leader == ra.member_id
        follower_sync = self.sync(rb.member_id, 2)
        assert follower_sync not in self.answers  # a follower's SyncGroup waits for the leader's
        leader_sync = self.sync(ra.member_id, 2, {ra.member_id: b"A", rb.member_id: b"B"})
        assert self.answers.pop(leader_sync) == (ErrorCode.none, b"A")
        assert self.answers.pop(follower_sync) == (ErrorCode.none, b"B")
        assert self.group().state is S
        return ra.member_id, rb.member_id


# -- GroupMetadata's transitions -----------------------------------------------------------------------------
@pytest.mark.parametrize("source,target", list(itertools.product(GroupState, GroupState)))
def test_transition_allowed_exactly_as_kafka(source: GroupState, target: GroupState) -> None:
    group = Group("g", state=source)
    if (source, target) in KAFKA_ALLOWED:
        group.transition_to(target, 5)
        assert group.state is target and group.state_timestamp == 5
    else:
        with pytest.raises(IllegalGroupTransition):
            group.transition_to(target, 5)
        assert group.state is source


def test_lifecycle_walks_every_state() -> None:
    s = Shard()
    assert "g" not in s.shard.groups
    token = s.join()  # Empty -> PreparingRebalance -> CompletingRebalance at once (all members in)
    r = s.answers.pop(token)
    assert s.group().state is CR and r.leader == r.member_id and r.members[0][0] == r.member_id
    assert s.answers.pop(s.sync(r.member_id, 1, {r.member_id: b"x"})) == (ErrorCode.none, b"x")
    assert s.group().state is S
    assert s.leave(r.member_id) == [ErrorCode.none]  # Stable -> PreparingRebalance -> Empty
    assert s.group().state is E and s.group().generation == 2
    assert s.delete_group() == ErrorCode.none  # Empty -> Dead, and gone
    assert "g" not in s.shard.groups
    assert s.batches[-1] == [(GroupMetadataKey("g"), None)]


# -- eager and cooperative rebalancing -----------------------------------------------------------------------
def test_eager_rebalance_new_member_makes_everyone_rejoin() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    token = s.join(client_id="c")
    assert s.group().state is PR
    assert s.heartbeat(leader, 2) == ErrorCode.rebalance_in_progress
    assert s.sync(leader, 2) == (ErrorCode.rebalance_in_progress, b"")
    t1, t2 = s.join(leader), s.join(follower)
    answers = [s.answers.pop(t) for t in (token, t1, t2)]
    assert {a.generation for a in answers} == {3} and s.group().state is CR
    assert [len(a.members) for a in answers] == [0, 3, 0]  # only the leader gets the members


def test_follower_sync_waits_for_the_leader_and_a_rebalance_fails_it() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    s.join(leader)  # the leader forces a rebalance from Stable (Kafka)
    follower_join = s.join(follower)
    assert s.answers.pop(follower_join).generation == 3
    waiting = s.sync(follower, 3)
    assert isinstance(waiting, int) and waiting not in s.answers
    s.join(client_id="late")  # CompletingRebalance -> PreparingRebalance: the waiting sync is told so
    assert s.answers.pop(waiting) == (ErrorCode.rebalance_in_progress, b"")


def test_cooperative_members_rejoin_without_a_rebalance_when_nothing_changed() -> None:
    coop = [("cooperative-sticky", b"v1"), ("range", b"v1")]
    s = Shard()
    a = s.answers.pop(s.join(protocols=coop))
    s.sync(a.member_id, 1, {a.member_id: b"all"})
    b_token = s.join(protocols=coop, client_id="b")
    a2 = s.answers.pop(s.join(a.member_id, protocols=coop))
    b = s.answers.pop(b_token)
    assert a2.protocol_name == b.protocol_name == "cooperative-sticky"
    s.sync(a.member_id, 2, {a.member_id: b"p0", b.member_id: b""})  # b gets nothing until a revokes (KIP-429)
    assert s.group().state is S
    # a follower repeating its join with the same metadata gets the current generation, no rebalance
    again = s.join(b.member_id, protocols=coop)
    assert isinstance(again, JoinResult) and again.generation == 2 and s.group().state is S
    # the leader's rejoin (after revoking) starts the follow-up rebalance that hands out the revoked partitions
    t_a = s.join(a.member_id, protocols=coop)
    assert s.group().state is PR
    t_b = s.join(b.member_id, protocols=coop)
    assert s.answers.pop(t_a).generation == s.answers.pop(t_b).generation == 3


def test_protocol_choice_and_inconsistent_protocols() -> None:
    s = Shard()
    a = s.answers.pop(s.join(protocols=[("cooperative-sticky", b""), ("range", b"")]))
    s.sync(a.member_id, 1)
    t = s.join(protocols=[("range", b"")], client_id="b")
    assert s.answers.pop(s.join(a.member_id, protocols=[("cooperative-sticky", b""), ("range", b"")])
                         ).protocol_name == "range"
    assert s.answers.pop(t).protocol_name == "range"
    r = s.join(protocols=[("roundrobin", b"")], client_id="c")
    assert r.error == ErrorCode.inconsistent_group_protocol


# -- static members (KIP-345, KIP-814) -----------------------------------------------------------------------
def test_static_member_restart_keeps_assignment_and_fences_the_old_id() -> None:
    s = Shard()
    a = s.answers.pop(s.join(instance_id="i-a"))
    s.sync(a.member_id, 1, {a.member_id: b"mine"})
    again = s.join(instance_id="i-a")  # restarted: no member id, same instance id, same metadata
    assert isinstance(again, JoinResult) and again.member_id != a.member_id
    assert again.generation == 1 and s.group().state is S  # no rebalance
    assert again.skip_assignment and again.previous_leader == a.member_id  # KIP-814: the leader must not reassign
    assert [m[0] for m in again.members] == [again.member_id]
    assert s.heartbeat(a.member_id, 1, "i-a") == ErrorCode.fenced_instance_id
    assert s.sync(again.member_id, 1, instance_id="i-a") == (ErrorCode.none, b"mine")
    assert s.leave(a.member_id, "i-a") == [ErrorCode.fenced_instance_id]
    assert s.leave("", "i-a") == [ErrorCode.none] and s.group().state is E


def test_static_follower_restart_gets_no_members_and_new_metadata_rebalances() -> None:
    s = Shard()
    a = s.answers.pop(s.join(instance_id="i-a"))
    s.sync(a.member_id, 1)
    t_b = s.join(instance_id="i-b", client_id="b")
    t_a = s.join(a.member_id, instance_id="i-a")
    b = s.answers.pop(t_b)
    assert s.answers.pop(t_a).generation == b.generation == 2
    s.sync(a.member_id, 2, {a.member_id: b"A", b.member_id: b"B"}, instance_id="i-a")
    restarted = s.join(instance_id="i-b", client_id="b")  # a follower: no members, nothing to skip
    assert isinstance(restarted, JoinResult) and not restarted.skip_assignment and restarted.members == ()
    assert restarted.generation == 2 and s.group().state is S
    assert s.sync(restarted.member_id, 2, instance_id="i-b") == (ErrorCode.none, b"B")
    assert s.sync(b.member_id, 2, instance_id="i-b") == (ErrorCode.fenced_instance_id, b"")
    changed = s.join(instance_id="i-b", protocols=[("range", b"other")], client_id="b")
    assert isinstance(changed, int) and s.group().state is PR
    assert restarted.member_id not in s.group().members


def test_static_member_that_does_not_rejoin_stays_through_the_rebalance() -> None:
    s = Shard()
    a = s.answers.pop(s.join(instance_id="i-a", session=20_000, rebalance=5_000))
    s.sync(a.member_id, 1)
    t = s.join(client_id="dyn", rebalance=5_000)
    s.advance(5_000)  # rebalance timeout: the static member did not rejoin but is kept (Kafka)
    dyn = s.answers.pop(t)
    assert dyn.generation == 2 and a.member_id in s.group().members
    s.answers.pop(s.sync(dyn.member_id, 2))
    s.advance(4_999)
    assert a.member_id in s.group().members
    s.advance(1)  # it never sent the new generation's SyncGroup (onExpirePendingSync)
    assert a.member_id not in s.group().members and "i-a" not in s.group().static_members
    assert s.group().state is PR


def test_members_that_never_sync_are_removed_after_the_rebalance_timeout() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    t1, t2 = s.join(leader), s.join(follower)
    assert s.answers.pop(t1).generation == s.answers.pop(t2).generation == 3
    s.answers.pop(s.sync(leader, 3, {leader: b"all"}))
    for _ in range(29):  # the follower heartbeats but never sends its SyncGroup
        s.advance(1_000)
        assert s.heartbeat(follower, 3) == ErrorCode.none
        s.heartbeat(leader, 3)
    s.advance(999)
    assert follower in s.group().members and s.group().state is S
    s.advance(1)
    assert follower not in s.group().members and s.group().state is PR
    assert s.heartbeat(follower, 3) == ErrorCode.unknown_member_id


def test_members_that_sync_are_not_removed() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    for _ in range(7):  # past the rebalance timeout since the join completed: both synced, nothing happens
        s.advance(5_000)
        assert s.heartbeat(leader, 2) == s.heartbeat(follower, 2) == ErrorCode.none
    assert s.group().state is S and set(s.group().members) == {leader, follower}


# -- session and rebalance timeouts --------------------------------------------------------------------------
def test_session_expires_at_its_deadline_to_the_millisecond() -> None:
    s = Shard()
    a = s.answers.pop(s.join(session=6_000))
    s.sync(a.member_id, 1)
    s.advance(4_000)
    assert s.heartbeat(a.member_id, 1) == ErrorCode.none  # the session restarts
    s.advance(5_999)
    assert a.member_id in s.group().members
    s.advance(1)
    assert s.group().state is E and not s.group().members and s.group().generation == 2
    assert s.heartbeat(a.member_id, 1) == ErrorCode.unknown_member_id


def test_members_that_miss_the_rebalance_timeout_are_removed() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    t_new = s.join(client_id="new", rebalance=8_000)
    t_leader = s.join(leader)
    for _ in range(29):  # the follower heartbeats (told REBALANCE_IN_PROGRESS) but does not rejoin
        s.advance(1_000)
        assert s.heartbeat(follower, 2) == ErrorCode.rebalance_in_progress
    s.advance(999)  # the group's rebalance timeout is its members' largest (30 s)
    assert s.group().state is PR
    s.advance(1)
    assert follower not in s.group().members
    assert s.answers.pop(t_new).generation == s.answers.pop(t_leader).generation == 3
    assert s.heartbeat(follower, 3) == ErrorCode.unknown_member_id


def test_waiting_members_do_not_expire() -> None:
    s = Shard()
    a = s.answers.pop(s.join(session=10_000, rebalance=60_000))
    s.sync(a.member_id, 1)
    t = s.join(client_id="b", session=1_000, rebalance=60_000)
    for _ in range(5):
        s.advance(1_000)
        s.heartbeat(a.member_id, 1)
    assert t not in s.answers and len(s.group().members) == 2  # b's 1 s session does not run while it waits
    s.join(a.member_id, session=10_000, rebalance=60_000)
    assert s.answers.pop(t).generation == 2


# -- group.initial.rebalance.delay.ms ------------------------------------------------------------------------
def test_initial_delay_waits_the_whole_delay() -> None:
    s = Shard(initial_rebalance_delay_ms=3_000)
    t = s.join()
    s.advance(2_999)
    assert t not in s.answers and s.group().state is PR
    s.advance(1)
    assert s.answers.pop(t).generation == 1


def test_initial_delay_extends_while_members_arrive_up_to_the_rebalance_timeout() -> None:
    s = Shard(initial_rebalance_delay_ms=3_000)
    t1 = s.join(rebalance=10_000)
    s.advance(1_000)
    t2 = s.join(client_id="b", rebalance=10_000)  # joined during the delay: one more delay (InitialDelayedJoin)
    s.advance(4_999)  # 3 s, then 3 s more
    assert t1 not in s.answers
    s.advance(1)
    assert s.answers.pop(t1).generation == s.answers.pop(t2).generation == 1


def test_initial_delay_is_bounded_by_the_rebalance_timeout() -> None:
    s = Shard(initial_rebalance_delay_ms=3_000)
    t1 = s.join(rebalance=4_000)
    s.advance(1_000)
    s.join(client_id="b", rebalance=4_000)
    s.advance(2_999)  # 3 s delay, then min(3 s, 4 s - 3 s) = 1 s more
    assert t1 not in s.answers
    s.advance(1_000)
    assert s.answers.pop(t1).generation == 1


def test_no_initial_delay_for_a_group_that_is_not_new() -> None:
    s = Shard(initial_rebalance_delay_ms=3_000)
    t = s.join()
    s.advance(3_000)
    a = s.answers.pop(t)
    s.sync(a.member_id, 1)
    t = s.join(a.member_id, protocols=[("range", b"changed")])
    assert s.answers.pop(t).generation == 2  # Stable -> PreparingRebalance completes as soon as all are in


# -- group.max.size and KIP-394 ------------------------------------------------------------------------------
def test_max_group_size() -> None:
    s = Shard(max_size=1)
    s.join()
    r = s.join(client_id="b")
    assert r.error == ErrorCode.group_max_size_reached and r.member_id == ""


def test_member_id_required_then_the_given_id_expires() -> None:
    s = Shard()
    r = s.join(v4=True, session=5_000)
    assert r.error == ErrorCode.member_id_required and r.member_id.startswith("c-")
    t = s.join(r.member_id, v4=True)
    assert s.answers.pop(t).member_id == r.member_id
    late = s.join(v4=True, session=5_000, client_id="b")
    s.advance(5_000)
    assert s.join(late.member_id, v4=True).error == ErrorCode.unknown_member_id


# -- offsets -------------------------------------------------------------------------------------------------
def test_commit_and_fetch_offsets() -> None:
    s = Shard()
    assert s.commit({("t", 0): (5, 2, "m")}) == ErrorCode.none  # a simple group (generation -1)
    got = s.shard.offsets.fetch("g", [("t", 0), ("t", 1)])
    assert got[("t", 0)].offset == 5 and got[("t", 0)].leader_epoch == 2 and got[("t", 1)] is None
    assert s.batches[-1][0][0] == OffsetCommitKey("g", "t", 0)
    assert s.commit({("t", 0): (1, -1, "")}, generation=3, member_id="x", group="nope") == \
        ErrorCode.group_id_not_found
    t = s.join(group="h")
    a = s.answers.pop(t)
    assert s.commit({("t", 0): (1, -1, "")}, 1, a.member_id, "h") == ErrorCode.rebalance_in_progress
    s.sync(a.member_id, 1, group="h")
    assert s.commit({("t", 0): (1, -1, "")}, 0, a.member_id, "h") == ErrorCode.illegal_generation
    assert s.commit({("t", 0): (1, -1, "")}, 1, "who", "h") == ErrorCode.unknown_member_id
    assert s.commit({("t", 0): (7, -1, "")}, 1, a.member_id, "h") == ErrorCode.none
    assert s.commit({("t", 0): (8, -1, "")}, group="h") == ErrorCode.unknown_member_id  # not empty
    assert s.shard.offsets.fetch("h", None)[("t", 0)].offset == 7


def test_require_stable_while_transactional_offsets_are_pending() -> None:
    s = Shard()
    s.commit({("t", 0): (1, -1, ""), ("t", 1): (1, -1, "")})
    offsets = s.shard.offsets
    assert s.txn_commit(42, {("t", 0): (9, -1, "")}) == ErrorCode.none
    assert s.batches[-1][0][0] == OffsetCommitKey("g", "t", 0)
    got = offsets.fetch("g", [("t", 0), ("t", 1)], require_stable=True)
    assert got[("t", 0)] == ErrorCode.unstable_offset_commit and got[("t", 1)].offset == 1
    assert offsets.fetch("g", None, require_stable=True)[("t", 0)] == ErrorCode.unstable_offset_commit
    assert offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 1  # without require_stable: the committed one
    s.complete_txn(42, commit=True)
    assert offsets.fetch("g", [("t", 0)], require_stable=True)[("t", 0)].offset == 9
    s.txn_commit(43, {("t", 1): (5, -1, "")})
    s.complete_txn(43, commit=False)
    assert offsets.fetch("g", [("t", 1)], require_stable=True)[("t", 1)].offset == 1


def cleanup(s: Shard, at: int) -> None:
    s.shard.cleanup(at)
    s._take(None)


def test_empty_groups_offsets_expire_after_retention_then_the_group_goes() -> None:
    s = Shard(offsets_retention_ms=60_000)
    s.commit({("t", 0): (5, -1, "m")})
    cleanup(s, s.now + 30_000)
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 5  # not yet
    cleanup(s, s.now + 120_000)
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)] is None and "g" not in s.shard.groups
    # tombstones in __consumer_offsets: the offset, and the group now Dead (cleanupGroupMetadata)
    assert s.batches[-1] == [(OffsetCommitKey("g", "t", 0), None), (GroupMetadataKey("g"), None)]


def test_an_empty_group_with_offsets_pending_in_a_transaction_stays() -> None:
    s = Shard(offsets_retention_ms=60_000)
    s.txn_commit(7, {("t", 0): (1, -1, "")})
    cleanup(s, s.now + 120_000)
    assert "g" in s.shard.groups


def test_a_group_with_members_keeps_its_offsets() -> None:
    s = Shard(offsets_retention_ms=60_000)
    a = s.answers.pop(s.join())
    s.sync(a.member_id, 1)
    s.commit({("t", 0): (5, -1, "")}, 1, a.member_id)
    cleanup(s, s.now + 120_000)
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 5


def test_a_stable_group_loses_old_offsets_of_topics_it_no_longer_subscribes_to() -> None:
    s = Shard(offsets_retention_ms=60_000)
    subscription = struct.pack(">hih", 0, 1, 1) + b"t" + struct.pack(">i", -1)  # ConsumerProtocolSubscription v0
    a = s.answers.pop(s.join(protocols=[("range", subscription)]))
    s.sync(a.member_id, 1)
    s.commit({("t", 0): (5, -1, ""), ("old", 0): (9, -1, "")}, 1, a.member_id)
    s.advance(5_000)
    s.heartbeat(a.member_id, 1)
    cleanup(s, s.now + 120_000)
    got = s.shard.offsets.fetch("g", None)
    assert list(got) == [("t", 0)] and s.batches[-1] == [(OffsetCommitKey("g", "old", 0), None)]


def test_delete_group_only_when_empty() -> None:
    s = Shard()
    a = s.answers.pop(s.join())
    s.sync(a.member_id, 1)
    s.commit({("t", 0): (5, -1, "")}, 1, a.member_id)
    assert s.delete_group() == ErrorCode.non_empty_group
    assert s.delete_group("none") == ErrorCode.group_id_not_found
    s.leave(a.member_id)
    assert s.delete_group() == ErrorCode.none
    assert s.batches[-1] == [(OffsetCommitKey("g", "t", 0), None), (GroupMetadataKey("g"), None)]
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)] is None


# -- loading and unloading -----------------------------------------------------------------------------------
def test_unload_answers_waiting_requests_not_coordinator() -> None:
    s = Shard()
    leader, follower = s.stable_pair()
    t = s.join(leader)
    s.shard.unload(s.now)
    s._take(None)
    assert s.answers.pop(t).error == ErrorCode.not_coordinator
    assert not s.shard.groups and len(s.timer) == 0


# -- a log that refuses writes (a full disk) -----------------------------------------------------------------
def test_refused_offset_commits_and_deletes_change_nothing() -> None:
    s = Shard(offsets_retention_ms=60_000)
    assert s.commit({("t", 0): (5, -1, "")}) == ErrorCode.none
    s.full = True
    assert s.commit({("t", 0): (9, -1, "")}) == ErrorCode.not_coordinator
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 5
    assert s._take(s.shard.offsets.delete("g", [("t", 0)])) == (ErrorCode.not_coordinator, {})
    assert s.delete_group() == ErrorCode.not_coordinator
    assert s.txn_commit(3, {("t", 0): (7, -1, "")}) == ErrorCode.not_coordinator
    assert not s.shard.offsets.has_pending_txn_offsets("g")
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 5
    cleanup(s, s.now + 120_000)  # nothing raised: they expire at a later check
    assert s.shard.offsets.fetch("g", [("t", 0)])[("t", 0)].offset == 5 and "g" in s.shard.groups
    s.full = False
    cleanup(s, s.now + 120_000)
    assert "g" not in s.shard.groups


def test_refused_group_records_leave_membership_in_memory() -> None:
    s = Shard()
    s.full = True  # Kafka: the group goes on; after a restart its members rejoin as after a coordinator move
    a = s.answers.pop(s.join())
    assert s.answers.pop(s.sync(a.member_id, 1, {a.member_id: b"x"})) == (ErrorCode.none, b"x")
    assert s.group().state is S and not s.batches
