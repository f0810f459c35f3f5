"""Cold-start import cost of each Lambda handler module (what a new execution environment pays
before the first invocation), measured in fresh interpreters with ``-X importtime``."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ["intake", "onboarding", "api", "bounces"]
RUNS = 3
BUDGET_MS = 1500  # per handler module, on this 2-core machine


def import_ms(module: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env,
                         capture_output=True, text=True, check=True).stderr
    total = 0
    for line in out.splitlines():
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s*(\S+)$", line)
        if match and match.group(2) == module:
            total = int(match.group(1))
    return total / 1000


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    failed = 0
    for name in HANDLERS:
        module = f"accessflow.handlers.{name}"
        ms = statistics.median(import_ms(module) for _ in range(RUNS))
        figures[f"cold_import_ms_{name}"] = round(ms, 1)
        failed |= ms > BUDGET_MS
    figures["_failed"] = int(failed)
    return figures
