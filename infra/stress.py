"""``make stress-offboarding``: the offboarding fault tests, N times in a row (default 20).

Not part of ``make test``: it looks for failures that happen once in many runs (the unexplained
``TransactWriteError`` of RevokeChunk). Every round is a fresh pytest process on a fresh stack; a
failed round keeps its output in ``.local/stress/round-N.log`` (cancelled transactions are logged
with their reasons, see ``store.repository.Tx``). Prints one line per round and the totals, writes
``.local/stress/offboarding.json``, and exits 1 if any test failed in any round.

Usage: ``python -m infra.stress [--rounds N] [-k EXPR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".local" / "stress"
#: the fault tests of tests/e2e/test_offboarding.py: throttling, a verification failure, a racing
#: change cancelling RevokeChunk's transaction, and the re-runs of a failed offboarding
FAULT_TESTS = "throttled or verify_finding or racing_a_grant or rerun or resumes"


def run_round(number: int, expr: str) -> tuple[Counter[str], list[str], float]:
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"round-{number}.xml"
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)]), "TZ": "UTC"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e/test_offboarding.py",
         "-k", expr, f"--junitxml={report}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    counts: Counter[str] = Counter()
    failed: list[str] = []
    if report.exists():
        for case in ET.parse(report).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                counts["failed"] += 1
                failed.append(case.get("name", "?"))
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
        report.unlink()
    if done.returncode != 0:
        (OUT / f"round-{number}.log").write_text(done.stdout + done.stderr)
        if not failed:
            counts["failed"] += 1
            failed.append(f"pytest exited {done.returncode}")
    return counts, failed, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("-k", dest="expr", default=FAULT_TESTS, help="which tests (pytest -k)")
    args = parser.parse_args(argv)
    total: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    rounds = []
    for number in range(1, args.rounds + 1):
        counts, failed, seconds = run_round(number, args.expr)
        total.update(counts)
        failures.update(failed)
        rounds.append({"round": number, **counts, "failed_tests": failed, "seconds": round(seconds, 1)})
        print(f"round {number:>2}/{args.rounds}: {counts['passed']} passed, {counts['failed']} failed"
              f" ({seconds:.0f} s){'  ' + ', '.join(failed) if failed else ''}", flush=True)
    summary = {"rounds": args.rounds, "tests": args.expr, "passed": total["passed"], "failed": total["failed"],
               "failed_rounds": sum(1 for r in rounds if r.get("failed")), "failures_by_test": dict(failures),
               "per_round": rounds}
    (OUT / "offboarding.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"total: {total['passed']} passed, {total['failed']} failed in {args.rounds} rounds"
          f" ({summary['failed_rounds']} rounds with a failure); details in {OUT / 'offboarding.json'}")
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
