"""One partition replica on this broker (Kafka's Partition): its log, leader epoch, leader, replicas and ISR.

Every append goes through here (producers, coordinators, transaction markers), and this is the only place that
moves the log's high watermark. A single broker is the leader of every partition and the whole ISR, so the high
watermark follows the log end offset; the cluster fills in followers through `update_follower_fetch_state` and
leadership through `make_leader` (with the controller's epoch), and nothing else changes."""

from __future__ import annotations

from brook.errors import ErrorCode, KafkaError
from brook.log.leader_epoch import UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
from brook.log.log import AppendInfo, Log
from brook.protocol.records.batch import BatchHeader


class Partition:
    __slots__ = ("topic", "index", "log", "broker_id", "leader_id", "leader_epoch", "replicas", "isr",
                 "follower_end_offsets")

    def __init__(self, topic: str, index: int, log: Log, broker_id: int) -> None:
        self.topic = topic
        self.index = index
        self.log = log
        self.broker_id = broker_id
        self.leader_id = -1
        self.leader_epoch = UNDEFINED_EPOCH
        self.replicas: tuple[int, ...] = ()
        self.isr: frozenset[int] = frozenset()
        self.follower_end_offsets: dict[int, int] = {}  # replica id -> log end offset it last fetched at

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
                    isr: frozenset[int] | None = None) -> None:
        """Kafka's makeLeader: a new epoch starts at the log end offset (written to leader-epoch-checkpoint before
        anything is appended in it), then the high watermark moves as far as the ISR allows."""
        me = (self.broker_id,)
        self.replicas = replicas if replicas is not None else me
        self.isr = isr if isr is not None else frozenset(me)
        if leader_epoch > self.leader_epoch:
            self.log.maybe_assign_epoch_start_offset(leader_epoch, self.log.log_end_offset)
            self.follower_end_offsets = {r: -1 for r in self.replicas if r != self.broker_id}
        self.leader_epoch = leader_epoch
        self.leader_id = self.broker_id
        self.maybe_increment_high_watermark()

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
        as Kafka's appendRecordsToLeader does)."""
        if acks == -1 and len(self.isr) < self.log.config.min_insync_replicas:
            raise KafkaError(ErrorCode.not_enough_replicas,
                             f"The size of the current ISR Set({', '.join(map(str, sorted(self.isr)))}) is "
                             f"insufficient to satisfy the min.isr requirement of "
                             f"{self.log.config.min_insync_replicas} for partition {self.topic}-{self.index}")

    def append_records_to_leader(self, records: bytes, h: BatchHeader, now_ms: int,
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

    # -- high watermark ------------------------------------------------------------------------------------
    def maybe_increment_high_watermark(self) -> bool:
        """Kafka's maybeIncrementLeaderHW: the smallest log end offset in the ISR (ours included)."""
        end = self.log.log_end_offset
        if len(self.isr) > 1:
            for r in self.isr:
                if r != self.broker_id:
                    end = min(end, self.follower_end_offsets.get(r, -1))
        return self.log.maybe_increment_high_watermark(end)

    def update_follower_fetch_state(self, replica_id: int, log_end_offset: int) -> bool:
        """A follower fetched from log_end_offset (the cluster's seam; ISR changes go with it)."""
        self.follower_end_offsets[replica_id] = min(log_end_offset, self.log.log_end_offset)
        return self.maybe_increment_high_watermark()

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
