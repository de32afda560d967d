"""Side-by-side timing: interleaved rounds in one process, medians, ratios.

Absolute times on a shared 2-core machine drift with whatever else runs;
ratios of contenders measured in the same rounds do not, which is why every
figure this project reports or checks is a ratio.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

Clock = Callable[[], float]


def calibrate(fn: Callable[[], Any], target: float = 0.02, clock: Clock = time.perf_counter) -> int:
    """How many calls of ``fn`` take about ``target`` seconds (of ``clock``)."""
    number = 1
    while True:
        start = clock()
        for _ in range(number):
            fn()
        if clock() - start >= target / 4:
            return max(1, int(number * target / max(clock() - start, 1e-9)))
        number *= 4


def interleaved(
    calls: Mapping[str, Callable[[], Any]],
    rounds: int = 15,
    target: float = 0.02,
    gc_enabled: bool = True,
    clock: Clock = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each callable, measured in interleaved rounds.

    Every round times each contender once, in turn, so slow drifts of the
    machine hit all of them alike. ``gc_enabled`` sets the collector for the
    timed loops (a service runs with it on, so the headline figures do too).
    ``clock`` is wall time by default; ``time.process_time`` counts this
    process's CPU only, for calls that wait on another process (a server).
    """
    numbers = {name: calibrate(fn, target, clock) for name, fn in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    was_enabled = gc.isenabled()
    # What exists now (imported libraries, the scenarios' inputs) is set aside from the
    # collector: the collect before each timed loop then sweeps only what the contenders
    # left, not some 640,000 objects at 0.35 s a time (two thirds of bench-check's time).
    # gc.unfreeze cannot give back only what it froze: where something froze objects
    # before (an application preparing to fork; 3.12 at start), they all stay frozen.
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            for name, fn in calls.items():
                number = numbers[name]
                gc.collect()
                if gc_enabled:
                    gc.enable()
                else:
                    gc.disable()
                start = clock()
                for _ in range(number):
                    fn()
                samples[name].append((clock() - start) / number)
    finally:
        if not frozen_before:
            gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
    return {name: statistics.median(values) for name, values in samples.items()}
