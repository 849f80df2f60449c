"""Primary election as Confluent's SchemaRegistryCoordinator does it: the registries sharing a topic join one Kafka
group (schema.registry.group.id, protocol type "sr", protocol "v0", each member's identity as JSON metadata); the
group's leader picks the eligible member with the lowest URL and tells everyone in the SyncGroup assignment.

librdkafka offers no group membership with a custom protocol, so the few group calls go through kio on a blocking
connection (cli/kafka_rpc's BrokerConnection), one thread per registry."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from brook.cli.kafka_rpc import BrokerConnection
from brook.registry.config import RegistryConfig

if TYPE_CHECKING:
    from kio.static.protocol import RequestPayload

    from brook.cli.kafka_rpc import R

log = logging.getLogger("io.confluent.kafka.schemaregistry.leaderelector.kafka.KafkaGroupLeaderElector")

PROTOCOL_TYPE = "sr"
PROTOCOL = "v0"
SESSION_TIMEOUT_MS = 10000
REBALANCE_TIMEOUT_MS = 10000
HEARTBEAT_INTERVAL_S = 1.0


def identity_url(identity: dict) -> str:
    return f"{identity.get('scheme', 'http')}://{identity['host']}:{identity['port']}"


def choose(members: list[tuple[str, dict]]) -> dict:
    """The group leader's assignment: the eligible member with the lowest URL is the primary."""
    eligible = sorted((identity_url(i), m, i) for m, i in members if i.get("master_eligibility", True))
    if not eligible:
        return {"version": 1, "error": 0, "master": None, "master_identity": None}
    _, member, identity = eligible[0]
    return {"version": 1, "error": 0, "master": member, "master_identity": identity}


class LeaderElector:
    def __init__(self, config: RegistryConfig, identity: dict,
                 on_primary: Callable[[], None]) -> None:
        self.config = config
        self.identity = identity
        self.on_primary = on_primary       # runs in the elector's thread before this node answers as primary
        self.primary_url: str | None = None
        self.is_primary = False
        self.elected = threading.Event()   # set once a first assignment has arrived
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schema-registry-leader-elector", daemon=True)
        self._conn: BrokerConnection | None = None
        self._member = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(REBALANCE_TIMEOUT_MS / 1000 + 5)

    # --- the membership loop

    def _bootstrap(self) -> tuple[str, int]:
        first = self.config.bootstrap_servers.split(",")[0].strip()
        host, _, port = first.split("://")[-1].rpartition(":")
        return host.strip("[]"), int(port)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except Exception as e:  # the broker went away or answered oddly: find the coordinator again
                log.warning("Group membership of %s interrupted: %s", self.config.group_id, e)
                self._stop.wait(1.0)
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
        self._unassign()

    def _call(self, body: RequestPayload, response_cls: type[R], wait_s: float) -> R:
        assert self._conn is not None
        self._conn.deadline = time.monotonic() + wait_s
        return self._conn.request(body, response_cls)

    def _coordinator(self) -> tuple[str, int]:
        from kio.schema.errors import ErrorCode
        from kio.schema.find_coordinator.v4.request import FindCoordinatorRequest
        from kio.schema.find_coordinator.v4.response import FindCoordinatorResponse
        from kio.static.primitive import i8

        host, port = self._bootstrap()
        with BrokerConnection(host, port, time.monotonic() + 10) as conn:
            r = conn.request(FindCoordinatorRequest(key_type=i8(0), coordinator_keys=(self.config.group_id,)),
                             FindCoordinatorResponse)
        c = r.coordinators[0]
        if c.error_code != ErrorCode.none:
            raise RuntimeError(f"FindCoordinator: {c.error_code.name}")
        return c.host, int(c.port)

    def _session(self) -> None:
        import datetime

        from kio.schema.errors import ErrorCode
        from kio.schema.join_group.v7.request import JoinGroupRequest, JoinGroupRequestProtocol
        from kio.schema.join_group.v7.response import JoinGroupResponse
        from kio.schema.sync_group.v5.request import SyncGroupRequest, SyncGroupRequestAssignment
        from kio.schema.sync_group.v5.response import SyncGroupResponse
        from kio.schema.types import GroupId
        from kio.static.primitive import i32, i32Timedelta

        host, port = self._coordinator()
        self._conn = BrokerConnection(host, port, time.monotonic() + 10)
        metadata = json.dumps(self.identity, separators=(",", ":")).encode()
        while not self._stop.is_set():
            join = self._call(JoinGroupRequest(
                group_id=GroupId(self.config.group_id),
                session_timeout=i32Timedelta.parse(datetime.timedelta(milliseconds=SESSION_TIMEOUT_MS)),
                rebalance_timeout=i32Timedelta.parse(datetime.timedelta(milliseconds=REBALANCE_TIMEOUT_MS)),
                member_id=self._member, protocol_type=PROTOCOL_TYPE,
                protocols=(JoinGroupRequestProtocol(name=PROTOCOL, metadata=metadata),)),
                JoinGroupResponse, REBALANCE_TIMEOUT_MS / 1000 + 10)
            err = join.error_code
            if err == ErrorCode.member_id_required:
                self._member = join.member_id
                continue
            if err in (ErrorCode.unknown_member_id, ErrorCode.illegal_generation):
                self._member = ""
                continue
            if err == ErrorCode.rebalance_in_progress:
                continue
            if err != ErrorCode.none:
                raise RuntimeError(f"JoinGroup: {err.name}")
            self._member = join.member_id
            generation = join.generation_id
            assignments: tuple = ()
            if join.leader == self._member:
                members = [(m.member_id, json.loads(m.metadata)) for m in join.members]
                chosen = json.dumps(choose(members), separators=(",", ":")).encode()
                assignments = tuple(SyncGroupRequestAssignment(member_id=m, assignment=chosen) for m, _ in members)
            sync = self._call(SyncGroupRequest(group_id=GroupId(self.config.group_id), generation_id=i32(generation),
                                               member_id=self._member, protocol_type=PROTOCOL_TYPE,
                                               protocol_name=PROTOCOL, assignments=assignments),
                              SyncGroupResponse, REBALANCE_TIMEOUT_MS / 1000 + 10)
            err = sync.error_code
            if err == ErrorCode.unknown_member_id:
                self._member = ""
            if err != ErrorCode.none:
                continue
            self._assign(json.loads(sync.assignment))
            if not self._heartbeat(generation):
                return

    def _heartbeat(self, generation: int) -> bool:
        """Heartbeats until the group rebalances (True: join again) or the coordinator moves (False)."""
        from kio.schema.errors import ErrorCode
        from kio.schema.heartbeat.v4.request import HeartbeatRequest
        from kio.schema.heartbeat.v4.response import HeartbeatResponse
        from kio.schema.types import GroupId
        from kio.static.primitive import i32

        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            r = self._call(HeartbeatRequest(group_id=GroupId(self.config.group_id), generation_id=i32(generation),
                                            member_id=self._member), HeartbeatResponse, 10)
            err = r.error_code
            if err == ErrorCode.none:
                continue
            if err == ErrorCode.unknown_member_id:
                self._member = ""
            return err in (ErrorCode.rebalance_in_progress, ErrorCode.unknown_member_id,
                           ErrorCode.illegal_generation)
        self._leave()
        return True

    def _leave(self) -> None:
        from kio.schema.leave_group.v4.request import LeaveGroupRequest, MemberIdentity
        from kio.schema.leave_group.v4.response import LeaveGroupResponse
        from kio.schema.types import GroupId

        try:
            self._call(LeaveGroupRequest(group_id=GroupId(self.config.group_id),
                                         members=(MemberIdentity(member_id=self._member),)), LeaveGroupResponse, 5)
        except Exception as e:  # leaving is a courtesy: the session timeout does it otherwise
            log.info("LeaveGroup failed: %s", e)

    # --- assignments

    def _assign(self, assignment: dict) -> None:
        identity = assignment.get("master_identity")
        primary = assignment.get("master") == self._member
        url = identity_url(identity) if identity else None
        if primary and not self.is_primary:
            self.on_primary()  # read the topic to its end before allocating ids
        if (url, primary) != (self.primary_url, self.is_primary):
            log.info("Finished rebalance with leader election result: %s (this node is %s)", url,
                     "the leader" if primary else "a follower")
        self.primary_url, self.is_primary = url, primary
        self.elected.set()

    def _unassign(self) -> None:
        self.primary_url, self.is_primary = None, False
