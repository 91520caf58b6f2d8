"""Trivial step functions the pipeline benchmarks run (importable by worker processes)."""


def plus_one(x: int) -> int:
    return x + 1


def trivial_trial(params: dict[str, float], report: object, train: object = None) -> float:
    return float(params["x"])
