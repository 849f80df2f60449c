"""One partition replica on this broker (Kafka's Partition): its log, leader epoch, leader, replicas and ISR.

Every append goes through here (producers, coordinators, transaction markers, a follower's fetched batches), and
this is the only place that moves the log's high watermark. A single broker is the leader of every partition and
the whole ISR, so the high watermark follows the log end offset. In a cluster the partition state (leader, leader
epoch, ISR, partition epoch) comes from the controller through `make_leader` / `make_follower`; a leader tracks its
followers' fetch positions (Kafka's Replica: log end offset, last caught-up time), keeps the high watermark at the
smallest log end offset of the ISR (with a pending expansion counted, as Kafka's maximal ISR) and names the ISR
changes to propose (`isr_expansion`, `out_of_sync_replicas`)."""

from __future__ import annotations

from brook.errors import ErrorCode, KafkaError
from brook.log.leader_epoch import UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
from brook.log.log import AppendInfo, Log
from brook.protocol.records.batch import BatchHeader


class FollowerState:
    """What the leader knows of one follower (Kafka's Replica)."""

    __slots__ = ("log_end_offset", "last_caught_up_ms", "last_fetch_leader_leo", "last_fetch_ms")

    def __init__(self, last_caught_up_ms: int) -> None:
        self.log_end_offset = -1
        self.last_caught_up_ms = last_caught_up_ms
        self.last_fetch_leader_leo = -1
        self.last_fetch_ms = 0


class Partition:
    __slots__ = ("topic", "index", "log", "broker_id", "leader_id", "leader_epoch", "replicas", "isr",
                 "followers", "partition_epoch", "pending_isr")

    def __init__(self, topic: str, index: int, log: Log, broker_id: int) -> None:
        self.topic = topic
        self.index = index
        self.log = log
        self.broker_id = broker_id
        self.leader_id = -1
        self.leader_epoch = UNDEFINED_EPOCH
        self.replicas: tuple[int, ...] = ()
        self.isr: frozenset[int] = frozenset()
        self.followers: dict[int, FollowerState] = {}  # a leader's followers
        self.partition_epoch = -1  # the state znode's version (Kafka's partition epoch); -1 on a single broker
        self.pending_isr: frozenset[int] | None = None  # an ISR change sent to the controller, not yet answered

    @classmethod
    def lone_leader(cls, topic: str, index: int, log: Log, broker_id: int) -> Partition:
        """The single broker's partition: it leads, alone in the ISR, in the epoch its leader-epoch-checkpoint ends
        with (0 for a new partition), as a ZooKeeper cluster keeps the epoch of a broker that comes back to lead
        alone."""
        part = cls(topic, index, log, broker_id)
        part.make_leader(max(0, log.leader_epochs.latest_epoch))
        return part

    def __repr__(self) -> str:
        return f"Partition({self.topic}-{self.index}, leader {self.leader_id}, epoch {self.leader_epoch})"

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.broker_id

    # -- leadership ----------------------------------------------------------------------------------------
    def make_leader(self, leader_epoch: int, replicas: tuple[int, ...] | None = None,
                    isr: frozenset[int] | None = None, partition_epoch: int = -1, now_ms: int = 0) -> None:
        """Kafka's makeLeader: a new epoch starts at the log end offset (written to leader-epoch-checkpoint before
        anything is appended in it), then the high watermark moves as far as the ISR allows (Kafka's
        resetReplicaState for the followers)."""
        me = (self.broker_id,)
        self.replicas = replicas if replicas is not None else me
        self.isr = isr if isr is not None else frozenset(me)
        self.partition_epoch = partition_epoch
        self.pending_isr = None
        if leader_epoch > self.leader_epoch:
            self.log.maybe_assign_epoch_start_offset(leader_epoch, self.log.log_end_offset)
        if not self.is_leader:  # a new leader: followers' positions unknown, the ISR caught up now
            self.followers = {r: FollowerState(now_ms if r in self.isr else 0) for r in self.replicas
                              if r != self.broker_id}
        elif set(self.followers) != set(self.replicas) - {self.broker_id}:  # a reassignment changed the replicas
            old_followers = self.followers
            self.followers = {r: old_followers.get(r) or FollowerState(0) for r in self.replicas
                              if r != self.broker_id}
        if self.is_leader and leader_epoch > self.leader_epoch:  # the same leader in a new epoch keeps its followers
            old = self.followers
            self.followers = {r: old.get(r) or FollowerState(0) for r in self.replicas if r != self.broker_id}
            for r in self.isr:
                if r in self.followers:
                    self.followers[r].last_caught_up_ms = now_ms
        self.leader_epoch = leader_epoch
        self.leader_id = self.broker_id
        self.maybe_increment_high_watermark()

    def make_follower(self, leader_id: int, leader_epoch: int, replicas: tuple[int, ...], isr: frozenset[int],
                      partition_epoch: int) -> bool:
        """Kafka's makeFollower; True when the leader or its epoch changed (the fetcher starts over, truncating
        first)."""
        changed = leader_id != self.leader_id or leader_epoch != self.leader_epoch
        self.leader_id, self.leader_epoch = leader_id, leader_epoch
        self.replicas, self.isr, self.partition_epoch = replicas, isr, partition_epoch
        self.followers = {}
        self.pending_isr = None
        return changed

    def check_leader_epoch(self, current_leader_epoch: int) -> ErrorCode:
        """A client's view of the leader epoch (-1: none given) against ours (Kafka's checkCurrentLeaderEpoch)."""
        if current_leader_epoch < 0 or current_leader_epoch == self.leader_epoch:
            return ErrorCode.none
        return ErrorCode.fenced_leader_epoch if current_leader_epoch < self.leader_epoch \
            else ErrorCode.unknown_leader_epoch

    def _require_leader(self, current_leader_epoch: int = -1) -> None:
        err = self.check_leader_epoch(current_leader_epoch)
        if err != ErrorCode.none:
            raise KafkaError(err, f"Failed to find leader log for partition {self.topic}-{self.index} with leader "
                                  f"epoch {current_leader_epoch}. The current leader is {self.leader_id} and the "
                                  f"current epoch {self.leader_epoch}")
        if not self.is_leader:
            raise KafkaError(ErrorCode.not_leader_or_follower,
                             f"Leader not local for partition {self.topic}-{self.index} on broker {self.broker_id}")

    # -- writes --------------------------------------------------------------------------------------------
    def check_min_isr(self, acks: int) -> None:
        """acks=all needs min.insync.replicas in the ISR before anything is written (checked before validation,
        as Kafka's appendRecordsToLeader does, after leadership)."""
        if self.leader_id != self.broker_id:
            self._require_leader()
        if acks == -1 and len(self.isr) < self.log.config.min_insync_replicas:
            raise KafkaError(ErrorCode.not_enough_replicas,
                             f"The size of the current ISR Set({', '.join(map(str, sorted(self.isr)))}) is "
                             f"insufficient to satisfy the min.isr requirement of "
                             f"{self.log.config.min_insync_replicas} for partition {self.topic}-{self.index}")

    def append_records_to_leader(self, records: bytes | memoryview, h: BatchHeader, now_ms: int,
                                 validate: bool = True) -> AppendInfo:
        """One validated batch, stamped with this partition's leader epoch. validate=False: a coordinator's own
        write (Kafka's AppendOrigin.COORDINATOR), no producer sequence checks."""
        if self.leader_id != self.broker_id:
            self._require_leader()
        info = self.log.append(records, h, self.leader_epoch, now_ms, validate)
        if not info.duplicate:
            self.maybe_increment_high_watermark()
        return info

    def append_marker(self, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                      now_ms: int) -> int:
        """A transaction's COMMIT or ABORT marker; returns its offset."""
        self._require_leader()
        offset = self.log.append_marker(producer_id, producer_epoch, commit, coordinator_epoch, self.leader_epoch,
                                        now_ms)
        self.maybe_increment_high_watermark()
        return offset

    def delete_records_on_leader(self, offset: int) -> int:
        """DeleteRecords: -1 means the high watermark; beyond it is out of range. Returns the low watermark."""
        self._require_leader()
        hw = self.log.high_watermark
        target = hw if offset == -1 else offset
        if target < 0 or target > hw:
            raise KafkaError(ErrorCode.offset_out_of_range,
                             f"Cannot increment the log start offset to {target} of partition "
                             f"{self.topic}-{self.index} since it is larger than the high watermark {hw}")
        self.log.advance_log_start_offset(target)
        return self.log.log_start_offset

    # -- followers as data -------------------------------------------------------------------------------
    def append_records_as_follower(self, records: bytes, leader_high_watermark: int, leader_log_start_offset: int,
                                   now_ms: int) -> None:
        """Fetched batches from the leader, as they are; the high watermark and log start follow the leader's."""
        lg = self.log
        if records:
            lg.append_as_follower(records, now_ms)
        if lg.log_start_offset < leader_log_start_offset <= lg.high_watermark:
            lg.advance_log_start_offset(leader_log_start_offset)
        lg.update_high_watermark(leader_high_watermark)

    # -- high watermark and ISR (the leader) -----------------------------------------------------------------
    def maybe_increment_high_watermark(self) -> bool:
        """Kafka's maybeIncrementLeaderHW: the smallest log end offset in the ISR (ours included), a pending
        expansion counted too (the maximal ISR)."""
        end = self.log.log_end_offset
        if len(self.isr) > 1 or self.pending_isr is not None:
            followers = self.followers
            for r in self.isr if self.pending_isr is None else self.isr | self.pending_isr:
                if r != self.broker_id:
                    f = followers.get(r)
                    end = min(end, f.log_end_offset if f is not None else -1)
        return self.log.maybe_increment_high_watermark(end)

    def update_follower_fetch_state(self, replica_id: int, log_end_offset: int, now_ms: int = 0) -> bool:
        """A follower fetched from log_end_offset: its position and last caught-up time as Kafka's
        Replica.updateFetchState (caught up with this fetch's leader end, else with the previous fetch's)."""
        f = self.followers.get(replica_id)
        if f is None:
            if replica_id not in self.replicas or replica_id == self.broker_id:
                return False  # not an assigned follower (Kafka: logged, nothing recorded)
            f = self.followers[replica_id] = FollowerState(0)
        leader_end = self.log.log_end_offset
        if log_end_offset >= leader_end:
            f.last_caught_up_ms = max(f.last_caught_up_ms, now_ms)
        elif log_end_offset >= f.last_fetch_leader_leo:
            f.last_caught_up_ms = max(f.last_caught_up_ms, f.last_fetch_ms)
        f.log_end_offset = min(log_end_offset, leader_end)
        f.last_fetch_leader_leo, f.last_fetch_ms = leader_end, now_ms
        return self.maybe_increment_high_watermark()

    def isr_expansion(self, replica_id: int) -> frozenset[int] | None:
        """Kafka's maybeExpandIsr: a follower out of the ISR that reached the high watermark and this epoch's
        start joins it (the ISR to propose, or None)."""
        if replica_id in self.isr or self.pending_isr is not None or not self.is_leader \
                or replica_id not in self.replicas:
            return None
        f = self.followers.get(replica_id)
        if f is None or f.log_end_offset < self.log.high_watermark:
            return None
        epoch_start = self.log.leader_epochs.entries[-1][1] if self.log.leader_epochs.entries else 0
        return self.isr | {replica_id} if f.log_end_offset >= epoch_start else None

    def out_of_sync_replicas(self, now_ms: int, max_lag_ms: int) -> frozenset[int]:
        """Kafka's getOutOfSyncReplicas: followers in the ISR neither at the log end nor caught up within
        replica.lag.time.max.ms."""
        if self.pending_isr is not None or len(self.isr) < 2:
            return frozenset()
        end = self.log.log_end_offset
        out = set()
        for r in self.isr:
            f = self.followers.get(r)
            if r != self.broker_id and (f is None or f.log_end_offset != end and
                                        now_ms - f.last_caught_up_ms > max_lag_ms):
                out.add(r)
        return frozenset(out)

    def isr_changed(self, isr: frozenset[int], partition_epoch: int) -> bool:
        """The controller took a proposed ISR (AlterPartition's answer); True if the high watermark moved."""
        self.isr, self.partition_epoch, self.pending_isr = isr, partition_epoch, None
        return self.maybe_increment_high_watermark()

    def enough_replicas_reached(self, required_offset: int) -> ErrorCode | None:
        """Kafka's checkEnoughReplicasReachOffset for a waiting acks=all produce: None while the high watermark
        is below required_offset."""
        if not self.is_leader:
            return ErrorCode.not_leader_or_follower
        if self.log.high_watermark < required_offset:
            return None
        return ErrorCode.none if len(self.isr) >= self.log.config.min_insync_replicas \
            else ErrorCode.not_enough_replicas_after_append

    # -- reads ---------------------------------------------------------------------------------------------
    def last_offset_for_leader_epoch(self, current_leader_epoch: int, leader_epoch: int) -> tuple[ErrorCode, int, int]:
        """OffsetForLeaderEpoch: (error, the largest epoch <= leader_epoch, its end offset) from the epoch cache."""
        err = self.check_leader_epoch(current_leader_epoch)
        if err != ErrorCode.none:
            return err, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if not self.is_leader:
            return ErrorCode.not_leader_or_follower, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        epoch, end = self.log.leader_epochs.end_offset_for(leader_epoch, self.log.log_end_offset)
        if end == UNDEFINED_EPOCH_OFFSET:
            return ErrorCode.none, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        return ErrorCode.none, epoch, end

    def diverging_epoch(self, current_leader_epoch: int, last_fetched_epoch: int,
                        fetch_offset: int) -> tuple[int, int] | None:
        """Fetch v12+ with a last fetched epoch (KIP-595, followers): (epoch, end offset) where the fetcher's log
        diverges from ours, or None when it does not. Raises as Kafka's readRecords does."""
        err, epoch, end = self.last_offset_for_leader_epoch(current_leader_epoch, last_fetched_epoch)
        if err != ErrorCode.none:
            raise KafkaError(err)
        if end == UNDEFINED_EPOCH_OFFSET or epoch == UNDEFINED_EPOCH:
            raise KafkaError(ErrorCode.offset_out_of_range, "Could not determine the end offset of the last fetched "
                                                            f"epoch {last_fetched_epoch} from the request")
        if fetch_offset < self.log.log_start_offset:
            raise KafkaError(ErrorCode.offset_out_of_range)
        if epoch < last_fetched_epoch or end < fetch_offset:
            return epoch, end
        return None
