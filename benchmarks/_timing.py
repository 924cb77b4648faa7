"""Medians of per-call times: rounds of batches, the median round, in nanoseconds."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

ROUNDS, BATCH = 15, 1000  # more, shorter rounds: a median that shrugs off noisy neighbours


def median_ns(fn: Callable[[], Any], rounds: int = 0, batch: int = 0) -> float:
    rounds, batch = rounds or ROUNDS, batch or BATCH
    fn()  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch)
    return statistics.median(samples)


def amedian_ns(make: Callable[[], Awaitable[Any]], rounds: int = 0, batch: int = 0) -> float:
    rounds, batch = rounds or ROUNDS, batch or BATCH

    async def measure() -> float:
        await make()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter_ns()
            for _ in range(batch):
                await make()
            samples.append((time.perf_counter_ns() - start) / batch)
        return statistics.median(samples)

    return asyncio.run(measure())


def paired_ns(
    base: Callable[[], Any], test: Callable[[], Any], rounds: int = 0, batch: int = 0
) -> tuple[float, float]:
    """(base, test - base) per call, from rounds that time both back to back, so that
    drift on a shared machine hits both sides of each difference alike."""
    rounds, batch = rounds or ROUNDS, batch or BATCH
    base()
    test()
    bases, diffs = [], []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            base()
        middle = time.perf_counter_ns()
        for _ in range(batch):
            test()
        end = time.perf_counter_ns()
        bases.append((middle - start) / batch)
        diffs.append((end - middle - (middle - start)) / batch)
    return statistics.median(bases), statistics.median(diffs)


def apaired_ns(
    base: Callable[[], Awaitable[Any]],
    test: Callable[[], Awaitable[Any]],
    rounds: int = 0,
    batch: int = 0,
) -> tuple[float, float]:
    """:func:`paired_ns` for coroutines, in one event loop. (Rounds and batch default
    to the module's ROUNDS and BATCH at call time, so a smoke run can shrink them.)"""
    rounds, batch = rounds or ROUNDS, batch or BATCH

    async def measure() -> tuple[float, float]:
        await base()
        await test()
        bases, diffs = [], []
        for _ in range(rounds):
            start = time.perf_counter_ns()
            for _ in range(batch):
                await base()
            middle = time.perf_counter_ns()
            for _ in range(batch):
                await test()
            end = time.perf_counter_ns()
            bases.append((middle - start) / batch)
            diffs.append((end - middle - (middle - start)) / batch)
        return statistics.median(bases), statistics.median(diffs)

    return asyncio.run(measure())
