"""Execute one notebook and nothing else: the part of grading that runs inside the sandbox.

``python -m carpentry_kit.teaching.execute --submission DIR --workdir DIR --cell-timeout S`` reads the
notebook to run on stdin, copies the submission's files into the working directory, runs every code cell
in a fresh kernel (nbclient) and writes ``{"notebook": ..., "failure": ...}`` as JSON on stdout. It scores
nothing: the trusted parent (``carpentry_kit.teaching.grading``) checks the notebook and scores it.

A cell past its timeout is interrupted and fails; a kernel that dies fails the cell it died in and is
restarted; a cell that ignores the interrupt ends the run (``failure`` says which). Each cell keeps at most
``--max-output-chars`` characters of output. This process makes itself non-dumpable before the kernel
starts, so the kernel (same user) can neither trace it nor open its files through ``/proc``.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PR_SET_DUMPABLE = 4
CUT_NOTE = "\n... output cut by the grader ...\n"


class InterruptIgnored(Exception):
    """A cell ran past its timeout and went on running after the interrupt."""


def grading_client_class() -> type:
    """An nbclient ``NotebookClient`` that caps each cell's output and gives up on a cell that ignores
    the interrupt. Built on demand: nbclient is heavy."""
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):
        max_output_chars = 20_000

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._chars: dict[int, int] = {}
            self._cut: set[tuple[int, str]] = set()
            self._interrupted: set[int] = set()

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is None:
                return out
            self._chars[cell_index] = self._chars.get(cell_index, 0) + _size(out)
            if self._chars[cell_index] > self.max_output_chars:
                outs.pop()
                kind = out.get("name", out.output_type)
                if (cell_index, kind) not in self._cut:  # one note per kind: stderr and errors still count
                    self._cut.add((cell_index, kind))
                    outs.append(_shrunk(out))
            return out

        async def _async_handle_timeout(self, timeout, cell=None):
            key = id(cell)
            if key in self._interrupted:
                raise InterruptIgnored(
                    f"a cell ran past the {timeout} s cell timeout and ignored the interrupt"
                )
            self._interrupted.add(key)
            return await super()._async_handle_timeout(timeout, cell)

    return GradingClient


def _size(out: dict[str, Any]) -> int:
    parts = [out.get("text", ""), out.get("evalue", ""), *out.get("traceback", [])]
    parts += [str(value) for value in out.get("data", {}).values()]
    return sum(len(part) for part in parts)


def _shrunk(out: Any) -> Any:
    """A small stand-in for an output that went past the cap, of the same kind."""
    from nbformat.notebooknode import NotebookNode

    if out.output_type == "stream":
        return NotebookNode(output_type="stream", name=out.name, text=CUT_NOTE)
    if out.output_type == "error":
        return NotebookNode(output_type="error", ename=out.ename, evalue=out.evalue[:200], traceback=[])
    return NotebookNode(output_type="stream", name="stdout", text=CUT_NOTE)


async def execute(client: Any) -> str:
    """Run every code cell; "" when all ran, else why the run stopped."""
    from nbclient.exceptions import DeadKernelError

    async with client.async_setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(client.nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                await client.async_execute_cell(cell, index, execution_count=index + 1)
            except DeadKernelError as error:
                cell.outputs.append(_dead_kernel(str(error)))
                await _restart(client)
            except InterruptIgnored as error:
                return str(error)
    return ""


def _dead_kernel(message: str) -> Any:
    from nbformat.notebooknode import NotebookNode

    text = f"the kernel died in this cell: {message}"
    return NotebookNode(output_type="error", ename="DeadKernelError", evalue=text, traceback=[text])


async def _restart(client: Any) -> None:
    await client.km.restart_kernel(now=True)
    client.kc.stop_channels()
    client.kc = client.km.client()
    client.kc.start_channels()
    await client.kc.wait_for_ready(timeout=client.startup_timeout)


def copy_submission(submission: Path, workdir: Path) -> None:
    """The submission's regular files into the working directory (links could point anywhere)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if not submission.is_dir():
        return
    for path in sorted(submission.rglob("*")):
        if path.is_file() and not path.is_symlink():
            target = workdir / path.relative_to(submission)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carpentry_kit.teaching.execute")
    parser.add_argument("--submission", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--max-output-chars", type=int, default=20_000)
    args = parser.parse_args(argv)
    import nbformat

    notebook = nbformat.reads(sys.stdin.read(), as_version=4)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the notebook (hidden tests) is no longer open here
    copy_submission(args.submission, args.workdir)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    client = grading_client_class()(
        notebook,
        timeout=max(1, round(args.cell_timeout)),
        interrupt_on_timeout=True,
        allow_errors=True,
        kernel_name="python3",
        startup_timeout=120,
        resources={"metadata": {"path": str(args.workdir)}},
    )
    client.max_output_chars = args.max_output_chars
    try:
        failure = asyncio.run(execute(client))
    except Exception as error:  # noqa: BLE001 - the kernel did not start, or nbclient gave up: say why
        failure = f"the notebook could not be run ({type(error).__name__}: {str(error)[:200]})"
    json.dump({"notebook": notebook, "failure": failure}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
