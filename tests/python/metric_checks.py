"""Checks of the metric rows that both SDK tests produce.

The Python and the Node senders record the same instruments with the same
values, so one set of expectations covers both:

- `exos.e2e.orders`: a counter, 3 + 4 for lob=Appraisal and 2 for lob=Title;
- `exos.e2e.queue_depth`: an up-down counter, +5 then -2;
- `exos.e2e.step_duration`: a histogram with bounds 10/100/1000 over
  3, 7, 7, 120 and 20000;
- `exos.e2e.payload_size`: an exponential histogram with at most 20 buckets
  over 1, 2, 4 and 1024;
- `exos.e2e.cpu_ratio`: an observable gauge reporting 0.42.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil

from otel_rows import TEMPORALITY_CUMULATIVE, parse_timestamp_ns

HISTOGRAM_BOUNDS = (10.0, 100.0, 1000.0)
HISTOGRAM_VALUES = (3, 7, 7, 120, 20_000)
PAYLOAD_SIZES = (1, 2, 4, 1024)
EXPONENTIAL_MAX_BUCKETS = 20

COMMON_COLUMNS = """
    ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ServiceName,
    MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix
"""


@dataclass(frozen=True)
class Expected:
    """What one sender's metric rows share."""

    service: str
    scope_name: str
    scope_version: str
    resource_schema_url: str
    # Nanosecond bounds on every point's TimeUnix.
    window: tuple[int, int]
    # Temporality of the counter and both histograms; the up-down counter
    # is cumulative in every SDK.
    temporality: int


def power_of_two_bucket_counts(values, scale: int) -> dict[int, int]:
    """Map bucket index to count for an exponential histogram at `scale`.

    Bucket i covers (base**i, base**(i+1)] with base = 2**(2**-scale), as the
    OTLP data model defines. For v = 2**e the index is ceil(e * 2**scale) - 1,
    which Fraction computes exactly at any scale.
    """
    counts: dict[int, int] = {}
    for value in values:
        exponent = value.bit_length() - 1
        assert value == 1 << exponent, f"{value} is not a power of two"
        index = ceil(Fraction(exponent) * Fraction(2) ** scale) - 1
        counts[index] = counts.get(index, 0) + 1
    return counts


def stored_bucket_counts(offset: int, counts: list[int]) -> dict[int, int]:
    return {offset + position: count for position, count in enumerate(counts) if count}


def check_all(server, expected: Expected) -> None:
    check_sums(server, expected)
    check_gauge(server, expected)
    check_histogram(server, expected)
    check_exponential_histogram(server, expected)


def query(server, table: str, columns: str, expected: Expected, order: str = "MetricName") -> list[dict]:
    service = expected.service.replace("'", "''")
    return server.sql(
        f"SELECT {COMMON_COLUMNS}, {columns} FROM {table} WHERE ServiceName = '{service}' ORDER BY {order}"
    )


def assert_common(row, expected: Expected, name: str, unit: str, description: str) -> None:
    assert row["ServiceName"] == expected.service
    assert row["MetricName"] == name
    assert row["MetricUnit"] == unit, f"{name}: MetricUnit"
    assert row["MetricDescription"] == description, f"{name}: MetricDescription"
    assert row["ScopeName"] == expected.scope_name, f"{name}: ScopeName"
    assert row["ScopeVersion"] == expected.scope_version, f"{name}: ScopeVersion"
    assert row["ResourceSchemaUrl"] == expected.resource_schema_url, f"{name}: ResourceSchemaUrl"
    assert row["ResourceAttributes"]["service.name"] == expected.service
    started, flushed = expected.window
    point_ns = parse_timestamp_ns(row["TimeUnix"])
    assert started <= point_ns <= flushed, f"{name}: TimeUnix {row['TimeUnix']} outside the export window"
    assert parse_timestamp_ns(row["StartTimeUnix"]) <= point_ns, f"{name}: StartTimeUnix after TimeUnix"


def check_sums(server, expected: Expected) -> None:
    rows = query(
        server,
        "otel_metrics_sum",
        "Value, AggregationTemporality, IsMonotonic",
        expected,
        order="MetricName, Value",
    )
    assert [row["MetricName"] for row in rows] == [
        "exos.e2e.orders",
        "exos.e2e.orders",
        "exos.e2e.queue_depth",
    ]
    orders, queue = rows[:2], rows[2]
    assert [(row["Attributes"], row["Value"]) for row in orders] == [
        ({"lob": "Title"}, 2),
        ({"lob": "Appraisal"}, 7),
    ]
    for row in orders:
        assert_common(row, expected, "exos.e2e.orders", "{order}", "Orders processed")
        assert row["IsMonotonic"] is True
        assert row["AggregationTemporality"] == expected.temporality

    assert_common(queue, expected, "exos.e2e.queue_depth", "{order}", "Orders waiting")
    assert queue["Attributes"] == {"queue": "review"}
    assert queue["Value"] == 3
    assert queue["IsMonotonic"] is False
    assert queue["AggregationTemporality"] == TEMPORALITY_CUMULATIVE


def check_gauge(server, expected: Expected) -> None:
    rows = query(server, "otel_metrics_gauge", "Value", expected)
    assert len(rows) == 1
    assert_common(rows[0], expected, "exos.e2e.cpu_ratio", "1", "CPU busy ratio")
    assert rows[0]["Attributes"] == {"core": "0"}
    assert rows[0]["Value"] == 0.42


def check_histogram(server, expected: Expected) -> None:
    rows = query(
        server,
        "otel_metrics_histogram",
        "Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality",
        expected,
    )
    assert len(rows) == 1
    row = rows[0]
    assert_common(row, expected, "exos.e2e.step_duration", "ms", "Step duration")
    assert row["Attributes"] == {"step": "review"}
    assert row["Count"] == len(HISTOGRAM_VALUES)
    assert row["Sum"] == sum(HISTOGRAM_VALUES)
    assert row["ExplicitBounds"] == list(HISTOGRAM_BOUNDS)
    assert row["BucketCounts"] == [3, 0, 1, 1]
    assert row["Min"] == min(HISTOGRAM_VALUES)
    assert row["Max"] == max(HISTOGRAM_VALUES)
    assert row["AggregationTemporality"] == expected.temporality


def check_exponential_histogram(server, expected: Expected) -> None:
    rows = query(
        server,
        "otel_metrics_exponential_histogram",
        "Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, "
        "NegativeOffset, NegativeBucketCounts, Min, Max, AggregationTemporality",
        expected,
    )
    assert len(rows) == 1
    row = rows[0]
    assert_common(row, expected, "exos.e2e.payload_size", "By", "Payload size")
    assert row["Attributes"] == {"route": "/orders"}
    assert row["Count"] == len(PAYLOAD_SIZES)
    assert row["Sum"] == sum(PAYLOAD_SIZES)
    assert row["Min"] == min(PAYLOAD_SIZES)
    assert row["Max"] == max(PAYLOAD_SIZES)
    assert row["ZeroCount"] == 0
    # The largest scale whose index range -1..10*2**scale-1 fits 20 buckets.
    assert row["Scale"] == 0
    stored = stored_bucket_counts(row["PositiveOffset"], row["PositiveBucketCounts"])
    assert stored == power_of_two_bucket_counts(PAYLOAD_SIZES, row["Scale"])
    assert stored_bucket_counts(row["NegativeOffset"], row["NegativeBucketCounts"]) == {}
    assert row["AggregationTemporality"] == expected.temporality
