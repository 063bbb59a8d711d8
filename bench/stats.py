"""Small, pure statistics used by the benchmark (unit-tested in tests/test_bench.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

KIB = 1024  # bytes in a KiB: /proc reports memory in KiB, the table shows KiB too


def percentile(samples: Sequence[float], pct: float) -> float:
    """The *pct*-th percentile of *samples*, interpolating linearly between ranks (NumPy's default).

    ``pct`` runs from 0 (the minimum) to 100 (the maximum).
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, not {pct}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    """The 50th percentile."""
    return percentile(samples, 50)


@dataclass(frozen=True)
class Latency:
    """A latency distribution summarised in seconds."""

    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Latency:
        """Summarise *samples* (seconds); an empty list gives NaNs, so a failed run still prints."""
        if not samples:
            nan = float("nan")
            return cls(0, nan, nan, nan)
        ordered = sorted(samples)
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 99), ordered[-1])


def ratio(figure: float, baseline: float) -> float:
    """figure / baseline, NaN when either is missing or the baseline is zero."""
    if baseline == 0 or math.isnan(figure) or math.isnan(baseline):
        return float("nan")
    return figure / baseline


def per_connection_kib(rss_loaded_kib: float, rss_idle_kib: float, connections: int) -> float:
    """Resident memory each held connection costs: (RSS with N held - RSS idle) / N, in KiB."""
    if connections <= 0:
        return float("nan")
    return (rss_loaded_kib - rss_idle_kib) / connections
