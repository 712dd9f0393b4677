"""Where the shared reference material is: ``shared/`` beside the checkout (``../shared``), inside it, or
beside the main checkout when this is a git worktree. Read-only; tests copy what they must write to."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The shared folder, or None when this checkout has none (tests that need it skip)."""
    candidates = [ROOT.parent / "shared", ROOT / "shared"]
    git = ROOT / ".git"
    if git.is_file() and git.read_text().startswith("gitdir:"):  # a worktree: .git names the main repository
        main_git = Path(git.read_text().split(":", 1)[1].strip())
        candidates.append(main_git.parents[2].parent / "shared")
    return next((path for path in candidates if (path / "reference").is_dir()), None)


def entries_dir() -> Path | None:
    shared = shared_dir()
    path = shared / "reference" / "mlcommons-entries" if shared else None
    return path if path and path.is_dir() else None


def checker_dir() -> Path | None:
    shared = shared_dir()
    path = shared / "tools" / "mlcommons-benchmark-checker" if shared else None
    return path if path and (path / "bin" / "generate.py").is_file() else None


def entry_files() -> list[Path]:
    folder = entries_dir()
    return sorted(folder.glob("*.yaml")) if folder else []
