"""The lazy public API table in carpentry_kit/__init__.py: light to import, names resolve to functions."""

from __future__ import annotations

import subprocess
import sys

import carpentry_kit as ck


def test_submodule_import_does_not_hide_the_public_function():
    # carpentry_kit.explore.plots imports carpentry_kit.explore.compare; the module must not shadow ck.compare.
    import carpentry_kit.explore.compare  # noqa: F401
    import carpentry_kit.explore.plots  # noqa: F401
    import carpentry_kit.explore.sweep  # noqa: F401

    assert callable(ck.compare) and ck.compare.__name__ == "compare"
    assert callable(ck.sweep) and ck.sweep.__name__ == "sweep"
    assert sys.modules["carpentry_kit.explore.compare"].compare is ck.compare


def test_every_public_name_resolves():
    for name in ck.__all__:
        assert getattr(ck, name) is not None, name


def test_import_stays_light():
    code = "import sys, carpentry_kit; print(sorted(m for m in ('torch','pandas','matplotlib','codecarbon') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
