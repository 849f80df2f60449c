"""kafka-configs' Admin calls that confluent-kafka cannot make, sent through `kafka_rpc` (kio's messages):
DescribeConfigs / AlterConfigs of the cluster-wide broker default (librdkafka refuses the empty resource name)
and DescribeClientQuotas / AlterClientQuotas (no client-quota calls in confluent-kafka). The broker to ask is
found with confluent-kafka's describe_cluster; a failure is the ExecutionException Kafka's Admin futures raise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kio.schema.alter_client_quotas.v1 import request as acq_req
from kio.schema.alter_client_quotas.v1 import response as acq_resp
from kio.schema.alter_configs.v2 import request as ac_req
from kio.schema.alter_configs.v2 import response as ac_resp
from kio.schema.describe_client_quotas.v1 import request as dcq_req
from kio.schema.describe_client_quotas.v1 import response as dcq_resp
from kio.schema.describe_configs.v4 import request as dc_req
from kio.schema.describe_configs.v4 import response as dc_resp
from kio.schema.incremental_alter_configs.v1 import request as iac_req
from kio.schema.incremental_alter_configs.v1 import response as iac_resp
from kio.static.primitive import f64, i8

from brook.cli.clients import ToolError, error_for_code, from_kafka

if TYPE_CHECKING:
    from kio.static.protocol import RequestPayload

    from brook.cli.kafka_rpc import R

BROKER, BROKER_LOGGER = i8(4), i8(8)  # ConfigResource.Type
SET, DELETE = i8(0), i8(1)  # AlterConfigOp.OpType
EXACT, DEFAULT, ANY = 0, 1, 2  # ClientQuotaFilterComponent match types


@dataclass
class Synonym:
    name: str
    value: str | None
    source: int


@dataclass
class Entry:
    """The fields of confluent-kafka's ConfigEntry kafka-configs prints."""

    name: str
    value: str | None
    is_sensitive: bool
    source: int
    synonyms: dict[int, Synonym] = field(default_factory=dict)  # in the broker's order (names may repeat)


def execution_error(code: int, message: str | None) -> ToolError:
    return ToolError("java.util.concurrent.ExecutionException", error_for_code(code, message or "").java())


class RpcAdmin:
    def __init__(self, admin: Any, props: dict[str, str]) -> None:
        self.admin, self.props = admin, props

    def nodes(self, call: str, timeout_s: float) -> dict[int, Any]:
        try:
            nodes = self.admin.describe_cluster(request_timeout=timeout_s).result(timeout=timeout_s).nodes
        except Exception as e:
            raise ToolError("java.util.concurrent.ExecutionException", from_kafka(e, call).java()) from None
        return {n.id: n for n in nodes}

    def _request(self, body: RequestPayload, response_cls: type[R], call: str, timeout_s: float,
                 node_id: int | None = None) -> R:
        from brook.cli.kafka_rpc import call as rpc_call
        from brook.cli.kafka_rpc import connect
        from brook.cli.rpc_security import check_security

        check_security(self.props)
        deadline = time.monotonic() + timeout_s
        nodes = self.nodes(call, timeout_s)  # any broker answers, unless the resource is one broker's
        node = nodes[min(nodes) if node_id is None else node_id]
        try:
            with connect(node.host, node.port, deadline, call, self.props) as conn:
                return rpc_call(conn, body, response_cls, call)
        except ToolError as e:
            raise ToolError("java.util.concurrent.ExecutionException", e.java()) from None

    def describe_configs(self, resource_type: i8, name: str) -> list[Entry]:
        """A broker's configs ("": the cluster-wide default) or its loggers, with every synonym: confluent-kafka's
        ConfigEntry keys synonyms by name, which loses the layers of one config (DYNAMIC_DEFAULT_BROKER_CONFIG:x=1,
        DEFAULT_CONFIG:x=2), and it cannot address the default resource or BROKER_LOGGER at all."""
        resource = dc_req.DescribeConfigsResource(resource_type=resource_type, resource_name=name,
                                                  configuration_keys=None)
        body = dc_req.DescribeConfigsRequest(resources=(resource,), include_synonyms=True, include_documentation=False)
        node = int(name) if name else None
        (result,) = self._request(body, dc_resp.DescribeConfigsResponse, "describeConfigs", 30, node).results
        if result.error_code:
            raise execution_error(int(result.error_code), result.error_message)
        return [Entry(c.name, c.value, bool(c.is_sensitive), int(c.config_source),
                      {i: Synonym(s.name, s.value, int(s.source)) for i, s in enumerate(c.synonyms)})
                for c in result.configs]

    def alter_broker_loggers(self, name: str, to_set: dict[str, str], to_delete: list[str]) -> None:
        """IncrementalAlterConfigs of one broker's loggers: SET each added level, DELETE each removed one."""
        ops = [iac_req.AlterableConfig(name=k, config_operation=SET, value=v) for k, v in to_set.items()]
        ops += [iac_req.AlterableConfig(name=k, config_operation=DELETE, value="") for k in to_delete]
        resource = iac_req.AlterConfigsResource(resource_type=BROKER_LOGGER, resource_name=name, configs=tuple(ops))
        body = iac_req.IncrementalAlterConfigsRequest(resources=(resource,), validate_only=False)
        (result,) = self._request(body, iac_resp.IncrementalAlterConfigsResponse, "incrementalAlterConfigs", 60,
                                  int(name)).responses
        if result.error_code:
            raise execution_error(int(result.error_code), result.error_message)

    def alter_broker_defaults(self, configs: dict[str, str | None]) -> None:
        """AlterConfigs (not incremental): ConfigCommand 3.9 sends the whole new set of broker configs."""
        resource = ac_req.AlterConfigsResource(resource_type=BROKER, resource_name="", configs=tuple(
            ac_req.AlterableConfig(name=k, value=v) for k, v in configs.items()))
        body = ac_req.AlterConfigsRequest(resources=(resource,), validate_only=False)
        (result,) = self._request(body, ac_resp.AlterConfigsResponse, "alterConfigs", 60).responses
        if result.error_code:
            raise execution_error(int(result.error_code), result.error_message)

    def describe_client_quotas(self, components: list[tuple[str, int, str | None]],
                               strict: bool) -> list[tuple[dict[str, str | None], dict[str, float]]]:
        """(entity type -> name or None for the default, quota key -> value) per entity, as the broker lists them."""
        body = dcq_req.DescribeClientQuotasRequest(components=tuple(
            dcq_req.ComponentData(entity_type=t, match_type=i8(m), match=n) for t, m, n in components), strict=strict)
        response = self._request(body, dcq_resp.DescribeClientQuotasResponse, "describeClientQuotas", 30)
        if response.error_code:
            raise execution_error(int(response.error_code), response.error_message)
        return [({e.entity_type: e.entity_name for e in entry.entity}, {v.key: float(v.value) for v in entry.values})
                for entry in response.entries or ()]

    def alter_client_quotas(self, entity: dict[str, str | None], ops: list[tuple[str, float | None]]) -> None:
        entry = acq_req.EntryData(
            entity=tuple(acq_req.EntityData(entity_type=t, entity_name=n) for t, n in entity.items()),
            ops=tuple(acq_req.OpData(key=k, value=f64(0.0 if v is None else v), remove=v is None) for k, v in ops))
        body = acq_req.AlterClientQuotasRequest(entries=(entry,), validate_only=False)
        (result,) = self._request(body, acq_resp.AlterClientQuotasResponse, "alterClientQuotas", 60).entries
        if result.error_code:
            raise execution_error(int(result.error_code), result.error_message)
