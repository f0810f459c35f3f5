"""Cold start of every Lambda handler in ``template.yaml``: what a new execution environment pays to
import the handler's module before the first invocation, relative to ``import boto3``.

Each figure is the wall time of a whole fresh interpreter (``python -c "import MODULE"``, startup
included) with the functions' code on the path, the minimum of :data:`RUNS`; the baseline is
``python -c "import boto3"`` in the same venv, measured interleaved with the handlers so that a busy
machine slows both alike. ``cold_import_ratio_<module>`` = handler ÷ boto3; target
:data:`TARGET_RATIO` for every handler. The environment is a process outside Lambda, so Powertools'
tracing is off, as it is wherever the X-Ray daemon does not listen (see ``observability``).

The handlers defer the use cases, pydantic and PynamoDB to their first invocation (``accessflow.lazy``);
``cold_full_import_ratio_<module>`` is the honest total: the handler plus everything it deferred
(``accessflow.lazy.preload``), i.e. what the first invocation still imports. Reported, not a target.

``python -X importtime -c "import accessflow.handlers.api"`` shows where a handler's time goes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5
TARGET_RATIO = 1.3
BASELINE = "boto3"


def handler_modules(template: Path = ROOT / "template.yaml") -> list[str]:
    """The module of every ``Handler:`` in the template (several functions share one module)."""
    found = re.findall(r"^\s+Handler:\s*([\w.]+)\.\w+\s*$", template.read_text(), flags=re.M)
    return sorted(set(found))


def wall_ms(code: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    env.pop("PYTHONSTARTUP", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    return (time.perf_counter() - started) * 1000


def full_import(module: str) -> str:
    """The handler module and everything it deferred to its first invocation (``accessflow.lazy``)."""
    return f"import {module}; from accessflow.lazy import preload; preload({module})"


def run() -> dict[str, Any]:
    modules = handler_modules()
    codes = {f"import {m}": m for m in [BASELINE, *modules]} | {full_import(m): f"full:{m}" for m in modules}
    best: dict[str, float] = {}
    for _ in range(RUNS):  # interleaved: every round measures the baseline and each handler once
        for code, key in codes.items():
            ms = wall_ms(code)
            best[key] = min(best.get(key, ms), ms)
    figures: dict[str, Any] = {"cold_import_ms_boto3": round(best[BASELINE], 1)}
    ratios = {}
    for module in modules:
        name = module.rsplit(".", 1)[-1]
        ratios[name] = best[module] / best[BASELINE]
        figures[f"cold_import_ms_{name}"] = round(best[module], 1)
        figures[f"cold_import_ratio_{name}"] = round(ratios[name], 2)
        figures[f"cold_full_import_ratio_{name}"] = round(best[f"full:{module}"] / best[BASELINE], 2)
    figures["cold_import_ratio_max"] = round(max(ratios.values()), 2)
    figures["_failed"] = int(figures["cold_import_ratio_max"] > TARGET_RATIO)
    return figures


if __name__ == "__main__":
    print(run())
