"""Client quota keys (Kafka's QuotaConfigs): what AlterClientQuotas accepts for users, client ids and IPs."""

from __future__ import annotations

from .definition import ConfigDef, ConfigKey, at_least

MAX_LONG, MAX_INT = 2**63 - 1, 2**31 - 1
USER, CLIENT_ID, IP = "user", "client-id", "ip"  # ClientQuotaEntity types

USER_CLIENT_QUOTAS = ConfigDef().define(
    ConfigKey("producer_byte_rate", "long", MAX_LONG, "A rate representing the upper bound (bytes/sec) for "
              "producer traffic."),
    ConfigKey("consumer_byte_rate", "long", MAX_LONG, "A rate representing the upper bound (bytes/sec) for "
              "consumer traffic."),
    ConfigKey("request_percentage", "double", float(MAX_INT), "A percentage representing the upper bound of time "
              "spent for processing requests."),
    ConfigKey("controller_mutation_rate", "double", float(MAX_INT), "The rate at which mutations are accepted for "
              "the create topics request, the create partitions request and the delete topics request."),
)
IP_QUOTAS = ConfigDef().define(
    ConfigKey("connection_creation_rate", "int", MAX_INT, "An int representing the upper bound of connections "
              "accepted for the specified IP.", at_least(0)),
)
