"""Wall time of the README's main job: ``carpentry run carpentry_kit/examples/digits-mlp.yaml``.

Target: at most 15 s wall, install excluded, in a fresh process (imports, data, training to 90% test accuracy
three times, energy, records). Prints the run's own timed seconds beside the wall time and exits 1 when the
target is missed. Run: ``.venv/bin/python benchmarks/bench_run.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import print_figures, verdict

TARGET_S = 15.0
ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "carpentry_kit" / "examples" / "digits-mlp.yaml"


def main() -> int:
    carpentry = Path(sys.executable).parent / "carpentry"
    command = [str(carpentry)] if carpentry.exists() else [sys.executable, "-m", "carpentry_kit"]
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        finished = subprocess.run(
            [*command, "run", str(SPEC), "--out", out, "--quiet"], capture_output=True, text=True, cwd=ROOT
        )
        wall = time.perf_counter() - started
        if finished.returncode not in (0, 1):
            print(finished.stderr, file=sys.stderr)
            print(f"FAIL: carpentry run exited {finished.returncode}")
            return 1
        record = json.loads((Path(out) / "runs.jsonl").read_text().splitlines()[-1])
    timed = sum(record["metrics"]["time_to_target_s"]["samples"])
    rows = [
        ("carpentry run digits-mlp.yaml, wall", wall, f"<= {TARGET_S:g}"),
        ("  of which timed training (3 repeats)", timed, "info"),
        (
            "  energy method",
            record["energy"]["method"],
            "measured" if record["energy"]["measured"] else "ESTIMATED",
        ),
        ("  validity", record["validity"], "info"),
    ]
    print_figures("figure", rows, unit="value")
    return verdict(wall <= TARGET_S, f"{wall:.1f} s > {TARGET_S:g} s")


if __name__ == "__main__":
    sys.exit(main())
