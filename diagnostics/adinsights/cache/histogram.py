"""Quantiles from a Prometheus histogram, read from the exposition text the way
`histogram_quantile()` computes them, so the figure matches what a dashboard shows."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

Buckets = dict[float, float]  # upper bound -> cumulative count


class NotExposition(ValueError):
    """The text is not Prometheus's exposition format; the message is one short line."""


def buckets_by(text: str, family: str, label: str, **where: str) -> dict[str, Buckets]:
    """The family's cumulative buckets per value of ``label``, over the series whose other
    labels match ``where``."""
    found: dict[str, Buckets] = {}
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise NotExposition(reason[:120]) from None
    for metric in families:
        if metric.name != family:
            continue
        for sample in metric.samples:
            labels = sample.labels
            if not sample.name.endswith("_bucket") or any(
                    labels.get(k) != v for k, v in where.items()):
                continue
            bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            series = found.setdefault(labels.get(label, ""), {})
            series[bound] = series.get(bound, 0.0) + sample.value
    return found


def merged(series: Iterable[Buckets]) -> Buckets:
    total: Buckets = {}
    for one in series:
        for bound, count in one.items():
            total[bound] = total.get(bound, 0.0) + count
    return total


def quantile(q: float, buckets: Buckets) -> float | None:
    """Linear interpolation inside the bucket the rank falls in; the highest finite bound
    when it falls in +Inf; None with no observations."""
    ordered = sorted(buckets.items())
    total = ordered[-1][1] if ordered else 0.0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
