"""Medians of per-call times: rounds of batches, the median round, in nanoseconds;
several calls timed back to back in each round when they are to be compared."""

from __future__ import annotations

import asyncio
import inspect
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

ROUNDS, BATCH = 15, 1000  # more, shorter rounds: a median that shrugs off noisy neighbours


def median_ns(fn: Callable[[], Any], rounds: int = 0, batch: int = 0) -> float:
    """The median time of one call."""
    return column(rounds_ns([fn], rounds, batch), 0)


def rounds_ns(
    calls: Sequence[Callable[[], Any]], rounds: int = 0, batch: int = 0
) -> list[list[float]]:
    """Per round, the mean time of each call, all timed back to back in every round, so
    that drift on a shared machine hits them alike; ratios are then taken per round."""
    rounds, batch = rounds or ROUNDS, batch or BATCH
    for call in calls:
        call()
    table = []
    for _ in range(rounds):
        times = []
        for call in calls:
            start = time.perf_counter_ns()
            for _ in range(batch):
                call()
            times.append((time.perf_counter_ns() - start) / batch)
        table.append(times)
    return table


def arounds_ns(
    calls: Sequence[Callable[[], Any]], rounds: int = 0, batch: int = 0
) -> list[list[float]]:
    """:func:`rounds_ns` in one event loop; calls that return an awaitable are awaited."""
    rounds, batch = rounds or ROUNDS, batch or BATCH

    async def measure() -> list[list[float]]:
        awaited = []
        for call in calls:
            result = call()
            awaited.append(inspect.isawaitable(result))
            if awaited[-1]:
                await result
        table = []
        for _ in range(rounds):
            times = []
            for call, is_async in zip(calls, awaited, strict=True):
                start = time.perf_counter_ns()
                if is_async:
                    for _ in range(batch):
                        await call()
                else:
                    for _ in range(batch):
                        call()
                times.append((time.perf_counter_ns() - start) / batch)
            table.append(times)
        return table

    return asyncio.run(measure())


def column(table: list[list[float]], index: int) -> float:
    """The median of one call's times over the rounds."""
    return statistics.median(row[index] for row in table)


def added(table: list[list[float]], test: int, base: int = 0) -> float:
    """The median over rounds of what ``test`` adds to ``base``."""
    return statistics.median(row[test] - row[base] for row in table)


def per_round(table: list[list[float]], compute: Callable[[list[float]], float]) -> float:
    """The median over rounds of ``compute(round)``: ratios taken within each round."""
    return statistics.median(compute(row) for row in table)
