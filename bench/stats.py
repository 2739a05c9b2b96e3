"""Median, p95 and the shape of one result row in bench/run.py's JSON."""

import statistics
import time

MIB = 1024 * 1024


def stats(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def result(name, scale, samples, unit, target, met, baseline=None, **extra):
    """met is None where the issue sets no target (the figure is reported beside its baseline)."""
    median, p95 = stats(samples)
    ratio = round(median / baseline[1], 2) if baseline and baseline[1] else None
    return {
        "name": name, "scale": scale, "n": len(samples), "unit": unit,
        "median": round(median, 3), "p95": round(p95, 3),
        "baseline": {"name": baseline[0], "median": round(baseline[1], 3)} if baseline else None,
        "ratio": ratio, "target": target, "met": None if met is None else bool(met), **extra,
    }  # fmt: skip


def timed(fn, n):
    """n timings of fn(i), in ms."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return times
