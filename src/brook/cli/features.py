"""kafka-features: Kafka 3.9's FeatureCommand (tools): describe, upgrade, downgrade and disable, with its argparse4j
command line (defaultHelp), output lines and exit codes.

librdkafka has no DescribeFeatures nor UpdateFeatures, so both go through `kafka_rpc` (kio) as the Java Admin sends
them: ApiVersions to a broker for describe (its supported and finalized features), UpdateFeatures to the controller.
A ZooKeeper-mode cluster (Brook) supports no feature: describe prints nothing and every update fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.argparse4j import Parser
from brook.cli.options import TerseException, entry_point, load_props_nio

METADATA_VERSION = "metadata.version"
UPGRADE, SAFE_DOWNGRADE, UNSAFE_DOWNGRADE = 1, 2, 3
# MetadataVersion (server-common, Kafka 3.9): (feature level, release, sub-version) in enum order
_MV = ("-1 0.8.0 ;-1 0.8.1 ;-1 0.8.2 ;-1 0.9.0 ;-1 0.10.0 IV0;-1 0.10.0 IV1;-1 0.10.1 IV0;-1 0.10.1 IV1;"
       "-1 0.10.1 IV2;-1 0.10.2 IV0;-1 0.11.0 IV0;-1 0.11.0 IV1;-1 0.11.0 IV2;-1 1.0 IV0;-1 1.1 IV0;-1 2.0 IV0;"
       "-1 2.0 IV1;-1 2.1 IV0;-1 2.1 IV1;-1 2.1 IV2;-1 2.2 IV0;-1 2.2 IV1;-1 2.3 IV0;-1 2.3 IV1;-1 2.4 IV0;"
       "-1 2.4 IV1;-1 2.5 IV0;-1 2.6 IV0;-1 2.7 IV0;-1 2.7 IV1;-1 2.7 IV2;-1 2.8 IV0;-1 2.8 IV1;-1 3.0 IV0;"
       "1 3.0 IV1;2 3.1 IV0;3 3.2 IV0;4 3.3 IV0;5 3.3 IV1;6 3.3 IV2;7 3.3 IV3;8 3.4 IV0;9 3.5 IV0;10 3.5 IV1;"
       "11 3.5 IV2;12 3.6 IV0;13 3.6 IV1;14 3.6 IV2;15 3.7 IV0;16 3.7 IV1;17 3.7 IV2;18 3.7 IV3;19 3.7 IV4;"
       "20 3.8 IV0;21 3.9 IV0;22 4.0 IV0;23 4.0 IV1")
METADATA_VERSIONS = [(int(level), release, f"{release}-{sub}" if sub else release)
                     for level, release, sub in (e.split(" ") for e in _MV.split(";"))]
LATEST_PRODUCTION, MINIMUM_BOOTSTRAP = "3.9-IV0", "3.3-IV0"


def build_parser() -> Parser:
    p = Parser("kafka-features", "This tool manages feature flags in Kafka.", default_help=True)
    g = p.add_group("", "", mutex=True, required=True)
    p.add("--bootstrap-server", group=g, help="A comma-separated list of host:port pairs to use for establishing the "
          "connection to the Kafka cluster.")
    p.add("--bootstrap-controller", group=g, help="A comma-separated list of host:port pairs to use for establishing "
          "the connection to the KRaft quorum.")
    p.add("--command-config", help="Property file containing configs to be passed to Admin Client.")
    p.add_command("describe", "Describes the current active feature flags.")
    s = p.add_command("upgrade", "Upgrade one or more feature flags.")
    s.add("--metadata", help="The level to which we should upgrade the metadata. For example, 3.3-IV3.")
    s.add("--feature", action="append", help="A feature upgrade we should perform, in feature=level format. For "
          "example: `metadata.version=5`.")
    s.add("--dry-run", action="store_true", help="Validate this upgrade, but do not perform it.")
    s = p.add_command("downgrade", "Upgrade one or more feature flags.")
    s.add("--metadata", help="The level to which we should downgrade the metadata. For example, 3.3-IV0.")
    s.add("--feature", action="append", help="A feature downgrade we should perform, in feature=level format. For "
          "example: `metadata.version=5`.")
    s.add("--unsafe", action="store_true", help="Perform this downgrade even if it may irreversibly destroy metadata.")
    s.add("--dry-run", action="store_true", help="Validate this downgrade, but do not perform it.")
    s = p.add_command("disable", "Disable one or more feature flags. This is the same as downgrading the version to "
                      "zero.")
    s.add("--feature", action="append", help="A feature flag to disable.")
    s.add("--unsafe", action="store_true", help="Disable this feature flag even if it may irreversibly destroy "
          "metadata.")
    s.add("--dry-run", action="store_true", help="Perform a dry-run of this disable operation.")
    return p


def level_to_string(feature: str, level: int) -> str:
    if feature == METADATA_VERSION:
        return next((name for lvl, _, name in METADATA_VERSIONS if lvl == level), f"UNKNOWN {level}")
    return str(level)


def metadata_version(text: str) -> tuple[int, str]:
    """MetadataVersion.fromVersionString: an exact IBP name, or a release for its latest production version."""
    segments = text.split(".")
    key = text if (3 if text.startswith("0.") else 2) >= len(segments) else ".".join(segments[:2])
    names = [name for *_, name in METADATA_VERSIONS]
    by_name = {name: (lvl, name) for lvl, _, name in METADATA_VERSIONS}
    production = METADATA_VERSIONS[:names.index(LATEST_PRODUCTION) + 1]
    by_name.update({release: (lvl, name) for lvl, release, name in production})
    if key not in by_name:
        supported = names[names.index(MINIMUM_BOOTSTRAP):names.index(LATEST_PRODUCTION) + 1]
        raise TerseException(f"Unsupported metadata.version {text}. Supported metadata.version are "
                             f"{', '.join(supported)}")
    return by_name[key]


def feature_update(level: int, kind: int) -> tuple[int, int]:
    """new FeatureUpdate(maxVersionLevel, upgradeType)."""
    if level == 0 and kind == UPGRADE:
        raise ValueError(f"The upgradeType flag should be set to SAFE_DOWNGRADE or UNSAFE_DOWNGRADE when the provided "
                         f"maxVersionLevel:{level} is < 1.")
    if level < 0:
        raise ValueError("Cannot specify a negative version level.")
    return level, kind


def parse_short(text: str) -> int | None:
    body = text[1:] if text[:1] in "+-" else text
    if body.isascii() and body.isdigit() and -(1 << 15) <= int(text) < 1 << 15:
        return int(text)
    return None


def parse_name_and_level(text: str) -> tuple[str, int]:
    name, eq, level = text.partition("=")
    if not eq:
        raise ValueError(f"Can't parse feature=level string {text}: equals sign not found.")
    name, level = name.strip(), level.strip()
    value = parse_short(level)
    if value is None:
        raise ValueError(f"Can't parse feature=level string {text}: unable to parse {level} as a short.")
    return name, value


def _add(updates: dict[str, tuple[int, int]], name: str, update: tuple[int, int]) -> None:
    if name in updates:
        raise ValueError(f"Feature {name} was specified more than once.")
    updates[name] = update


def upgrade_or_downgrade(op: str, ns: dict[str, Any], kind: int) -> tuple[str, dict[str, tuple[int, int]]]:
    updates: dict[str, tuple[int, int]] = {}
    if ns.get("metadata") is not None:
        level, _ = metadata_version(ns["metadata"])
        updates[METADATA_VERSION] = feature_update(level, kind)
    for text in ns.get("feature") or []:
        name, level = parse_name_and_level(text)
        _add(updates, name, feature_update(level, kind))
    return op, updates


def disable(ns: dict[str, Any], kind: int) -> tuple[str, dict[str, tuple[int, int]]]:
    updates: dict[str, tuple[int, int]] = {}
    for name in ns.get("feature") or []:
        _add(updates, name, feature_update(0, kind))
    return "disable", updates


class FeatureAdmin:
    """The Java Admin's describeFeatures and updateFeatures over kafka_rpc, bounded by default.api.timeout.ms."""

    def __init__(self, props: dict[str, str]) -> None:
        from brook.cli.clients import api_timeout_s
        from brook.cli.rpc_security import check_security

        check_security(props)
        self.props = props
        self.deadline = time.monotonic() + api_timeout_s(props)

    def _connect(self, address: str, call: str) -> Any:
        from brook.cli.kafka_rpc import connect_to

        return connect_to(address, self.deadline, call, self.props)

    def _bootstrap(self) -> str:
        return (self.props.get("bootstrap.servers") or self.props["bootstrap.controllers"]).split(",")[0]

    def describe(self) -> Any:
        """describeFeatures().featureMetadata().get(): a failure is an ExecutionException around the cause."""
        from brook.cli.clients import ToolError
        from brook.cli.kafka_rpc import call_highest

        try:
            with self._connect(self._bootstrap(), "describeFeatures") as conn:
                return call_highest(conn, "api_versions", [4, 3], lambda m: m.ApiVersionsRequest(
                    client_software_name="brook-cli", client_software_version="0.1.0"), "describeFeatures")
        except ToolError as e:
            raise ToolError("java.util.concurrent.ExecutionException", e.java()) from None

    def _controller(self) -> str:
        """ControllerNodeProvider: the controller Metadata names (bootstrap.controllers are controllers already)."""
        if "bootstrap.servers" not in self.props:
            return self._bootstrap()
        from brook.cli.clients import admin_client, from_kafka

        admin = admin_client(self.props["bootstrap.servers"], self.props)
        try:
            node = admin.describe_cluster(request_timeout=max(0.1, self.deadline - time.monotonic())).result()
        except Exception as e:
            raise from_kafka(e, "updateFeatures") from None
        controller = node.controller or node.nodes[0]
        return f"{controller.host}:{controller.port}"

    def update(self, updates: dict[str, tuple[int, int]], validate_only: bool) -> dict[str, str | None]:
        """feature -> the failure's message (None when it succeeded), as UpdateFeaturesResult's futures end."""
        from brook.cli.clients import ToolError, error_for_code
        from brook.cli.kafka_rpc import call_highest

        def build(m: Any) -> Any:
            keys = tuple(m.FeatureUpdateKey(feature=f, max_version_level=level, upgrade_type=kind)
                         if hasattr(m.FeatureUpdateKey, "upgrade_type") else
                         m.FeatureUpdateKey(feature=f, max_version_level=level, allow_downgrade=kind != UPGRADE)
                         for f, (level, kind) in updates.items())
            return m.UpdateFeaturesRequest(feature_updates=keys, validate_only=validate_only) \
                if "validate_only" in m.UpdateFeaturesRequest.__dataclass_fields__ else \
                m.UpdateFeaturesRequest(feature_updates=keys)

        try:  # every failure of the call fails each feature's future with it
            with self._connect(self._controller(), "updateFeatures") as conn:
                if 57 not in conn.versions:  # NodeApiVersions.latestUsableVersion
                    return dict.fromkeys(updates, "The node does not support UPDATE_FEATURES")
                response = call_highest(conn, "update_features", [1, 0], build, "updateFeatures")
        except ToolError as e:
            return dict.fromkeys(updates, e.message)
        if response.error_code:
            return dict.fromkeys(updates, error_for_code(int(response.error_code), response.error_message or "")
                                 .message)
        out: dict[str, str | None] = {f: f"The controller response did not contain a result for feature {f}"
                                      for f in updates}
        for r in response.results:
            if r.feature in out:
                out[r.feature] = error_for_code(int(r.error_code), r.error_message or "").message \
                    if r.error_code else None
        return out


def describe_lines(response: Any) -> list[str]:
    """FeatureCommand.handleDescribe's lines for an ApiVersions answer: the supported features by name."""
    finalized = {f.name: int(f.max_version_level) for f in response.finalized_features}
    epoch = int(response.finalized_features_epoch)
    return [f"Feature: {f.name}\tSupportedMinVersion: {level_to_string(f.name, int(f.min_version))}\t"
            f"SupportedMaxVersion: {level_to_string(f.name, int(f.max_version))}\t"
            f"FinalizedVersionLevel: {level_to_string(f.name, finalized.get(f.name, 0))}\t"
            f"Epoch: {epoch if epoch >= 0 else '-'}" for f in sorted(response.supported_features, key=lambda f: f.name)]


def update(admin: FeatureAdmin, op: str, updates: dict[str, tuple[int, int]], dry_run: bool) -> None:
    if not updates:
        raise TerseException(f"You must specify at least one feature to {op}")
    if any(not name.strip() for name in updates):  # KafkaAdminClient.updateFeatures
        raise ValueError("Provided feature can not be empty.")
    failures = 0
    for feature, error in sorted(admin.update(updates, dry_run).items()):
        level = updates[feature][0]
        if error is not None:
            suffix = f"disable {feature}" if op == "disable" else f"{op} {feature} to {level}"
            print(f"{'Can not ' if dry_run else 'Could not '}{suffix}. {error}")
            failures += 1
        else:
            obj = "disabled." if op == "disable" else f"{op}d to {level}."
            print(f"{feature}{' can be ' if dry_run else ' was '}{obj}")
    if failures:
        raise TerseException(f"{failures} out of {len(updates)} operation(s) failed.")


def execute(args: Sequence[str]) -> None:
    from brook.cli.cluster import bootstrap_props

    ns = build_parser().parse_or_exit(args, lambda: None)
    props = load_props_nio(ns["command_config"]) if ns["command_config"] is not None else {}
    props = bootstrap_props(props, ns["bootstrap_server"], ns["bootstrap_controller"])
    admin = FeatureAdmin(props)
    command = ns["command"]
    if command == "describe":
        for line in describe_lines(admin.describe()):
            print(line)
        return
    kind = UNSAFE_DOWNGRADE if ns.get("unsafe") else SAFE_DOWNGRADE
    op, updates = (upgrade_or_downgrade("upgrade", ns, UPGRADE) if command == "upgrade" else
                   upgrade_or_downgrade("downgrade", ns, kind) if command == "downgrade" else disable(ns, kind))
    update(admin, op, updates, bool(ns.get("dry_run")))


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        execute(sys.argv[1:] if argv is None else argv)
        return 0
    except BrokenPipeError:  # stdout closed (`| head`): entry_point ends quietly
        raise
    except Exception as e:  # FeatureCommand.mainNoExit: the message alone, status 1
        print(getattr(e, "message", None) or e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
