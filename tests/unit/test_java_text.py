"""The tools' Java-side helpers against what Java gives: java.text.BreakIterator's line breaks, java.util.Random(0)
and String.format's half-up rounding (values recorded from the JDK 17), FeatureCommand's level names and lines."""

from __future__ import annotations

import datetime

import pytest

from brook.cli.break_iterator import line_segments
from brook.cli.e2e_latency import JavaRandom, java_fixed


@pytest.mark.parametrize(("text", "segments"), [
    ("one of the arguments --bootstrap-server/-b --bootstrap-controller/-C is required",
     "[one ][of ][the ][arguments ][--][bootstrap-][server/-][b ][--][bootstrap-][controller/-][C ][is ][required]"),
    ("kafka-transactions.sh -x --foo 3.3-IV0 a-b -5 x=-1 'metadata.version=5'. (default: false)",
     "[kafka-][transactions.][sh ][-][x ][--][foo ][3.3-][IV0 ][a-][b ][-5 ][x=-][1 ]['metadata.][version=5'. ]"
     "[(default: ][false)]"),
    ("a.b a.1 1.a 1.1 a-1 1-1 1-a x=-1 (-1) a/b a/-b a,b a:b a;b a_b a--b a.-b a-.b a'-b .a -a",
     "[a.][b ][a.][1 ][1.][a ][1.1 ][a-][1 ][1-][1 ][1-][a ][x=-][1 ][(-1) ][a/b ][a/-][b ][a,][b ][a:][b ][a;][b ]"
     "[a_b ][a--][b ][a.][-][b ][a-][.][b ][a'-][b ][.][a ][-][a]"),
    ("REQUIRED unless --bootstrap-servers(deprecated) is specified. The server(s) to connect to. "
     "HOST1:PORT1,HOST2:PORT2. f(x)=1 a[b] a{b} <String: id> 'n', x=y",
     "[REQUIRED ][unless ][--][bootstrap-][servers][(deprecated) ][is ][specified. ][The ][server][(s) ][to ]"
     "[connect ][to. ][HOST1:][PORT1,][HOST2:][PORT2. ][f][(x)][=1 ][a][[b] ][a][{b} ][<String: ][id> ]['n', ][x=y]"),
    ("the topic(s) to, e.g., (default: 5) [a, b] a)b a]b",
     "[the ][topic][(s) ][to, ][e.][g., ][(default: ][5) ][[a, ][b] ][a)][b ][a]][b]"),
])
def test_line_breaks_as_the_jdk(text: str, segments: str) -> None:
    assert "".join(f"[{s}]" for s in line_segments(text)) == segments


def test_java_random_and_rounding() -> None:
    r = JavaRandom(0)
    assert [r.next_int(26) for _ in range(8)] == [18, 18, 23, 21, 13, 9, 7, 15]
    assert JavaRandom(0)._next(32) == -1155484576  # new Random(0).nextInt()
    assert JavaRandom(42).next_int(16) == 11 and JavaRandom(7).next_int(100) == 36  # power-of-two, general bound
    assert (java_fixed(0.03125, 4), java_fixed(1.23456789, 4), java_fixed(float("nan"), 4)) == ("0.0313", "1.2346",
                                                                                                 "NaN")


def test_feature_levels_as_feature_command() -> None:
    """FeatureCommandTest.testLevelToString and MetadataVersion.fromVersionString's lookups."""
    from brook.cli.features import TerseException, level_to_string, metadata_version

    assert level_to_string("foo.bar", 5) == "5"
    assert level_to_string("metadata.version", 4) == "3.3-IV0" and level_to_string("metadata.version", 21) == "3.9-IV0"
    assert level_to_string("metadata.version", 0) == "UNKNOWN 0"
    assert metadata_version("3.3") == (7, "3.3-IV3") and metadata_version("3.3.1") == (7, "3.3-IV3")
    assert metadata_version("3.3-IV0") == (4, "3.3-IV0") and metadata_version("0.10.0") == (-1, "0.10.0-IV1")
    with pytest.raises(TerseException, match=r"^Unsupported metadata.version 4.0. Supported metadata.version are "
                                             r"3.3-IV0, 3.3-IV1, .*, 3.8-IV0, 3.9-IV0$"):
        metadata_version("4.0")


def test_feature_describe_lines_of_a_kraft_cluster() -> None:
    """FeatureCommandTest.testDescribeWithKRaft's lines, from the ApiVersions answer such a cluster gives."""
    from kio.schema.api_versions.v4.response import (
        ApiVersionsResponse,
        FinalizedFeatureKey,
        SupportedFeatureKey,
    )

    from brook.cli.features import describe_lines

    response = ApiVersionsResponse(
        error_code=0, api_keys=(), throttle_time=datetime.timedelta(0), finalized_features_epoch=7,
        supported_features=(SupportedFeatureKey(name="transaction.version", min_version=0, max_version=2),
                            SupportedFeatureKey(name="metadata.version", min_version=1, max_version=23),
                            SupportedFeatureKey(name="kraft.version", min_version=0, max_version=1)),
        finalized_features=(FinalizedFeatureKey(name="metadata.version", max_version_level=5, min_version_level=5),))
    assert describe_lines(response) == [
        "Feature: kraft.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: 7",
        "Feature: metadata.version\tSupportedMinVersion: 3.0-IV1\tSupportedMaxVersion: 4.0-IV1\t"
        "FinalizedVersionLevel: 3.3-IV1\tEpoch: 7",
        "Feature: transaction.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 2\tFinalizedVersionLevel: 0\t"
        "Epoch: 7"]
