"""Benchmarks run by ``make bench`` (``python -m infra.bench``).

Each module here defines ``run() -> dict[str, float | int | str]``: it builds its own local stack from
``template.yaml``, measures, prints a readable line per figure, and returns flat keys that the runner
merges into ``bench-results.json`` at the repository root.
"""
