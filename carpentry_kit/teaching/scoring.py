"""Scores computed by the trusted parent, from nothing a submission could have written.

The graded cells, their points and the source of every locked cell (test cells with their hidden tests)
come from the trusted course that ``nbgrader generate_assignment`` built from ``solutions/``; each
restored cell is checked against nbgrader's checksum of it. A submission's notebook gets those cells
back (a learner's edits to a test cell are discarded, as ``nbgrader autograde`` does), the sandbox only
executes it, and the parent scores each test cell of the executed notebook with nbgrader's rule:

* an error, or anything written to stderr: 0;
* an ``execute_result`` that is one number: that number, kept within [0, points] (partial credit);
* otherwise (it ran to the end): full points.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ScoringError(Exception):
    """The trusted course or a submitted notebook cannot be scored: one line saying why."""


@dataclass(frozen=True)
class TrustedCell:
    """A cell of the source notebook as the trusted course knows it."""

    grade_id: str
    cell_type: str
    source: str
    nbgrader: dict[str, Any]  # the release's nbgrader metadata

    @property
    def locked(self) -> bool:
        return bool(self.nbgrader.get("locked")) or self.autograded

    @property
    def autograded(self) -> bool:
        """A test cell: graded, not an answer."""
        return bool(self.nbgrader.get("grade")) and not self.nbgrader.get("solution")

    @property
    def points(self) -> float:
        return float(self.nbgrader.get("points", 0))


def trusted_cells(release: Path, gradebook_url: str, course_id: str, assignment: str) -> list[TrustedCell]:
    """The cells of a released notebook, each locked one with its full source (hidden tests included)
    from the trusted gradebook, both verified against nbgrader's checksums."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(release, as_version=4)
    with Gradebook(gradebook_url, course_id) as gb:
        stored = {c.name: c for c in gb.find_notebook(release.stem, assignment).source_cells}
    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" not in meta:
            continue
        trusted = stored.get(meta["grade_id"])
        source = trusted.source if meta.get("locked") and trusted else cell.source
        restored = copy.deepcopy(cell)
        restored.source = source
        # the release's checksum is of the released cell, the gradebook's of the full one (hidden tests)
        if meta.get("locked") and (
            trusted is None
            or compute_checksum(cell) != meta.get("checksum")
            or compute_checksum(restored) != trusted.checksum
        ):
            raise ScoringError(
                f"{release}: cell {meta['grade_id']} does not match its nbgrader checksum — "
                "regenerate the release (carpentry grade --generate)"
            )
        cells.append(TrustedCell(meta["grade_id"], cell.cell_type, source, dict(meta)))
    return cells


def restore(submitted: dict[str, Any], trusted: list[TrustedCell]) -> tuple[Any, dict[str, int]]:
    """The notebook to execute: the submission with every locked cell put back from the source and its
    outputs cleared, and the index of each test cell in it (deleted ones are missing)."""
    import nbformat

    try:
        notebook = nbformat.from_dict(submitted)
        cells = notebook["cells"]
    except (KeyError, TypeError, AttributeError) as error:
        raise ScoringError(f"not a notebook ({error})") from None
    try:
        return notebook, _restore_cells(cells, {cell.grade_id: cell for cell in trusted})
    except (AttributeError, TypeError) as error:
        raise ScoringError(f"not a notebook ({error})") from None


def _restore_cells(cells: list[Any], by_id: dict[str, TrustedCell]) -> dict[str, int]:
    where: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise ScoringError(f"cell {index} is not a notebook cell")
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        source = by_id.get(grade_id)
        cell.setdefault("metadata", {}).pop("nbgrader", None)  # only the trusted course says what is graded
        if source is None or grade_id in where:
            _clear(cell)
            continue
        where[grade_id] = index
        cell["metadata"]["nbgrader"] = dict(source.nbgrader)
        if source.locked:
            cell["cell_type"], cell["source"] = source.cell_type, source.source
            cell.pop("attachments", None)
        _clear(cell)
    return where


def _clear(cell: dict[str, Any]) -> None:
    if cell.get("cell_type") == "code":
        cell["outputs"], cell["execution_count"] = [], None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def check_executed(sent: Any, executed: Any) -> None:
    """The executed notebook must hold exactly the cells that were sent (same number, same sources)."""
    try:
        cells = executed["cells"]
        same = len(cells) == len(sent["cells"]) and all(
            _text(a.get("source")) == _text(b["source"]) for a, b in zip(cells, sent["cells"], strict=True)
        )
    except (KeyError, TypeError, AttributeError):
        same = False
    if not same:
        raise ScoringError("the sandbox returned a notebook that is not the one sent to it")


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def cell_score(cell: dict[str, Any], points: float) -> float:
    """nbgrader's score of an executed test cell (see the module docstring); 0 if it never ran."""
    if cell.get("execution_count") is None:
        return 0.0
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error" or (kind == "stream" and output.get("name") == "stderr"):
            return 0.0
        if kind == "execute_result":
            return _partial(output.get("data", {}).get("text/plain"), points)
    return points


def _partial(text: Any, points: float) -> float:
    """A single number shown by a test cell is its score, kept within [0, points]; anything else is full."""
    if isinstance(text, list):
        if len(text) != 1:
            return points
        text = text[0]
    try:
        value = float(str(text).strip())
    except ValueError:
        return points
    if not math.isfinite(value):
        return 0.0
    return min(max(value, 0.0), points)
