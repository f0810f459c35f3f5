"""``make bench``: run every benchmark in ``infra/benchmarks/`` and write ``bench-results.json``.

Performance targets live here, never in timed unit tests. Figures that matter for cost are counted
(DynamoDB items read, write calls), not timed, so they are stable on any machine.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ["TZ"] = "UTC"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # figures come from counts, not from EMF lines
time.tzset()
warnings.filterwarnings("ignore", "No application metrics to publish")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results.json"


def main(argv: list[str] | None = None) -> int:
    import infra.benchmarks as pkg

    wanted = set(argv if argv is not None else sys.argv[1:])
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failures = 0
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if wanted and info.name not in wanted:
            continue
        module = importlib.import_module(f"infra.benchmarks.{info.name}")
        print(f"== {info.name}")
        figures: dict[str, Any] = module.run()
        for key, value in figures.items():
            print(f"   {key:32} {value}")
        failures += int(figures.pop("_failed", 0))
        results.update(figures)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
