"""How well `carpentry rate` agrees with the MLCommons Science collection's expert ratings.

Each real entry in ``shared/reference/mlcommons-entries/`` is imported (``skeleton_yaml``) and its draft
rated from its content only: the entry's own ratings are written as comments in the skeleton, which the
rating never reads. Reports the Spearman rank correlation of the totals (of 30) and the mean absolute
difference per category (of 5), against the targets rank correlation ≥ 0.6 and ≤ 1 point per category.
The entries are few (ten): read the figures with that in mind. Exits 1 when a target is missed.
Run: ``.venv/bin/python benchmarks/bench_rating_agreement.py [ENTRIES_DIR]``.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import yaml
from figures import print_figures, verdict

from carpentry_kit.spec.mlcommons import RATING_KEYS, skeleton_yaml
from carpentry_kit.spec.rating import load_draft, rate_spec

REPO = Path(__file__).resolve().parents[1]
TARGET_RHO, TARGET_MAD = 0.6, 1.0


def entries_dir() -> Path | None:
    """``shared/reference/mlcommons-entries`` beside the checkout (or beside the main one of a worktree)."""
    candidates = [REPO.parent / "shared", REPO / "shared"]
    git = REPO / ".git"
    if git.is_file() and git.read_text().startswith("gitdir:"):
        candidates.append(Path(git.read_text().split(":", 1)[1].strip()).parents[2].parent / "shared")
    found = [path / "reference" / "mlcommons-entries" for path in candidates]
    return next((path for path in found if path.is_dir()), None)


def ratings(folder: Path) -> list[tuple[str, dict[str, float], dict[str, int]]]:
    """(name, expert ratings, content ratings) of every entry in ``folder``."""
    rows = []
    for path in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            expert = {key: float(entry["ratings"][key]["rating"]) for key in RATING_KEYS}
            rating = rate_spec(load_draft(skeleton_yaml(entry)))
            rows.append((str(entry["name"]), expert, {c.key: c.score for c in rating.categories}))
    return rows


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else entries_dir()
    if folder is None or not folder.is_dir():
        print("no entries: give the folder of MLCommons entries (shared/reference/mlcommons-entries)")
        return 2
    rows = ratings(folder)
    print(f"{'entry':<45} {'expert':>6} {'content':>7}   per category (expert/content)")
    for name, expert, content in rows:
        pairs = " ".join(f"{expert[key]:g}/{content[key]}" for key in RATING_KEYS)
        print(f"{name[:45]:<45} {sum(expert.values()):6g} {sum(content.values()):7d}   {pairs}")
    print()
    rho = spearman([sum(e.values()) for _, e, _ in rows], [sum(c.values()) for _, _, c in rows])
    mads = {key: statistics.mean(abs(e[key] - c[key]) for _, e, c in rows) for key in RATING_KEYS}
    figures = [(f"rank correlation of totals ({len(rows)} entries)", rho, f">= {TARGET_RHO}")]
    figures += [(f"mean |expert - content|, {key}", mad, f"<= {TARGET_MAD}") for key, mad in mads.items()]
    figures += [
        ("mean total, expert", statistics.mean(sum(e.values()) for _, e, _ in rows), "(of 30)"),
        ("mean total, content", statistics.mean(sum(c.values()) for _, _, c in rows), "(of 30)"),
    ]
    print_figures("agreement with the collection's expert ratings", figures)
    missed = [label for label, value, target in figures[:-2] if not _meets(value, target)]
    return verdict(not missed, ", ".join(missed))


def _meets(value: float, target: str) -> bool:
    bound = float(target.split()[-1])
    return value >= bound if target.startswith(">=") else value <= bound


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
