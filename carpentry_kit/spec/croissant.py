"""Croissant, MLCommons' JSON-LD format for dataset metadata, checked and written with ``mlcroissant``.

A spec dataset names its Croissant file with ``croissant:`` (a path relative to the spec, or a URL); a
file is validated with ``mlcroissant`` when the spec is validated, a URL is checked for its form only (no
download at validation time). The ``builtin:`` datasets ship their Croissant metadata in
``carpentry_kit/data/croissant/``. ``file_croissant`` writes the metadata of a file dataset from its spec:
name, description, licence, sha256 and the fields (the CSV columns or the ``.npz`` arrays).

``mlcroissant`` (extra ``croissant``) is imported only when a Croissant file is read or written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import Loc, UsageError

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Dataset, Spec
    from carpentry_kit.spec.yaml_source import Document

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "data" / "croissant"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


def builtin_croissant(source: str) -> Path | None:
    """The shipped Croissant file of a ``builtin:`` source, None when there is none."""
    if not source.startswith("builtin:"):
        return None
    path = BUILTIN_DIR / f"{source.removeprefix('builtin:')}.json"
    return path if path.is_file() else None


def has_croissant(dataset: Dataset) -> bool:
    """True when the dataset's Croissant metadata is named in the spec or shipped with a builtin source."""
    return bool(dataset.croissant) or builtin_croissant(dataset.source) is not None


# ------------------------------------------------------------------------------------------ validation
def croissant_errors(source: Path | dict[str, Any]) -> list[str]:
    """The errors ``mlcroissant`` finds in a Croissant file (or its parsed JSON), one line each."""
    if isinstance(source, Path):
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as error:
            return [f"cannot read {source}: {error.strerror}"]
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return [f"{source} is not JSON ({error})"]
    else:
        data = source
    if not isinstance(data, dict):
        return ["a Croissant file is a JSON object (a schema.org Dataset)"]
    return _mlcroissant_errors(data)


def _mlcroissant_errors(data: dict[str, Any]) -> list[str]:
    try:
        import mlcroissant as mlc
    except ImportError:
        return ["cannot check it: mlcroissant is not installed (pip install 'carpentry-kit[croissant]')"]

    try:
        with _quiet():
            mlc.Dataset(jsonld=data)
    except mlc.ValidationError as error:
        lines = [line for line in str(error).splitlines() if line.startswith("  -")]
        return [re.sub(r"^\s*-\s*(\[[^\]]*\]\s*)?", "", line).strip() for line in lines]
    except Exception as error:  # mlcroissant raises plain exceptions on malformed graphs  # noqa: BLE001
        return [str(error).splitlines()[0] if str(error) else type(error).__name__]
    return []


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """mlcroissant logs every recommendation (citeAs, datePublished, ...) as a warning: hide them."""
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        yield
    finally:
        absl.setLevel(level)


def croissant_problems(document: Document) -> list[tuple[Loc, str, str]]:
    """``(loc, message, hint)`` for each dataset whose ``croissant:`` is not valid Croissant metadata."""
    data = document.data
    datasets = data.get("datasets") if isinstance(data, dict) else None
    if not isinstance(datasets, list):
        return []
    spec_dir = Path(document.file).parent if Path(document.file).is_file() else Path.cwd()
    problems = []
    for index, dataset in enumerate(datasets):
        value = dataset.get("croissant") if isinstance(dataset, dict) else None
        if isinstance(value, str) and value:
            problems += [
                (("datasets", index, "croissant"), *issue) for issue in _check_reference(value, spec_dir)
            ]
    return problems


def _check_reference(value: str, spec_dir: Path) -> list[tuple[str, str]]:
    if value.startswith(("http://", "https://")):
        if _URL.match(value):
            return []
        return [(f"'{value}' is not a URL", "write the full http(s) address of the Croissant JSON-LD file")]
    path = spec_dir / value
    if not path.is_file():
        hint = "give a path relative to the spec, or a URL (`carpentry croissant SPEC` writes one)"
        return [(f"Croissant file {value} not found", hint)]
    errors = croissant_errors(path)
    if not errors:
        return []
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return [
        (
            f"{value} is not valid Croissant: {errors[0]}{more}",
            "fix the file, or rewrite it with `carpentry croissant`",
        )
    ]


# ---------------------------------------------------------------------------------------------- writing
def license_url(license_id: str) -> str | None:
    """An SPDX identifier as the URL Croissant expects; a URL stays; ``unknown`` gives None."""
    if not license_id or license_id.lower() == "unknown":
        return None
    if license_id.startswith(("http://", "https://")) or not _SPDX.match(license_id):
        return license_id
    return f"https://spdx.org/licenses/{license_id}.html"


def metadata(
    *,
    name: str,
    description: str,
    url: str,
    license_id: str,
    cite_as: str,
    file: dict[str, str],
    fields: list[dict[str, str]],
    version: str = "1.0.0",
    published: str | None = None,
) -> dict[str, Any]:
    """Croissant JSON-LD for one file and one record set; ``file`` has id, url, encoding and sha256,
    each field name, data_type (a schema.org type, e.g. sc:Float), description and column."""
    import mlcroissant as mlc

    ctx = mlc.Context()
    distribution = mlc.FileObject(
        ctx=ctx, id=file["id"], name=file["id"], content_url=file["url"],
        encoding_formats=[file["encoding"]], sha256=file["sha256"],
    )  # fmt: skip
    record_set = mlc.RecordSet(
        ctx=ctx, id="records", name="records", fields=[_field(ctx, file, f) for f in fields]
    )
    license_link = license_url(license_id)
    with _quiet():
        node = mlc.Metadata(
            ctx=ctx, name=name, description=description or name, url=url, version=version, cite_as=cite_as,
            license=[license_link] if license_link else None, date_published=published or dt.date.today().isoformat(),
            distribution=[distribution], record_sets=[record_set],
        )  # fmt: skip
    return json.loads(json.dumps(node.to_json(), default=str))


def _field(ctx: Any, file: dict[str, str], spec: dict[str, str]) -> Any:
    import mlcroissant as mlc

    source = mlc.Source(ctx=ctx, file_object=file["id"], extract=mlc.Extract(ctx=ctx, column=spec["column"]))
    return mlc.Field(
        ctx=ctx, id=f"records/{spec['name']}", name=spec["name"], description=spec["description"],
        data_types=[getattr(mlc.DataType, _DATA_TYPES[spec["data_type"]])], source=source,
    )  # fmt: skip


_DATA_TYPES = {"sc:Integer": "INTEGER", "sc:Float": "FLOAT", "sc:Boolean": "BOOL", "sc:Text": "TEXT"}


def _data_type(kind: str) -> str:
    return {"i": "sc:Integer", "u": "sc:Integer", "f": "sc:Float", "b": "sc:Boolean"}.get(kind, "sc:Text")


def _csv_fields(path: Path) -> list[dict[str, str]]:
    import pandas as pd

    frame = pd.read_csv(path)
    return [
        {"name": str(column), "column": str(column), "data_type": _data_type(frame[column].dtype.kind),
         "description": "the label" if column == "target" else f"column {column}"}
        for column in frame.columns
    ]  # fmt: skip


def _npz_fields(path: Path) -> list[dict[str, str]]:
    import numpy as np

    with np.load(path, allow_pickle=False) as arrays:
        shapes = {key: (arrays[key].shape, arrays[key].dtype) for key in arrays.files}
    return [
        {"name": key, "column": key, "data_type": _data_type(dtype.kind),
         "description": f"array {key}: shape {'x'.join(map(str, shape))}, {dtype}"}
        for key, (shape, dtype) in shapes.items()
    ]  # fmt: skip


def file_croissant(spec: Spec, spec_dir: Path, dataset_name: str | None = None) -> dict[str, Any]:
    """Croissant metadata for a file dataset of ``spec`` (its only one, or ``dataset_name``)."""
    from carpentry_kit.data.datasets import sha256_of

    dataset = _file_dataset(spec, dataset_name)
    path = spec_dir / dataset.source
    if not path.is_file():
        raise UsageError(f"datasets: {dataset.source} not found next to the spec — check `source:`")
    digest = sha256_of(path)
    if dataset.sha256 and dataset.sha256 != digest:
        raise UsageError(
            f"{dataset.source}: sha256 is {digest}, the spec says {dataset.sha256} — fix `sha256:`"
        )
    csv = path.suffix.lower() == ".csv"
    bench = spec.benchmark
    file = {"id": path.name, "url": dataset.source, "sha256": digest,
            "encoding": "text/csv" if csv else "application/x-npz"}  # fmt: skip
    return metadata(
        name=dataset.name, description=dataset.description, license_id=dataset.license,
        url=bench.url if bench.url != "unknown" else dataset.source,
        cite_as=bench.cite[0] if bench.cite else f"{bench.name} dataset {dataset.name}",
        file=file, fields=_csv_fields(path) if csv else _npz_fields(path),
    )  # fmt: skip


def _file_dataset(spec: Spec, name: str | None) -> Dataset:
    files = [d for d in spec.datasets if not d.source.startswith(("builtin:", "http://", "https://"))]
    if name is not None:
        chosen = [d for d in files if d.name == name]
        if not chosen:
            raise UsageError(
                f"no file dataset named '{name}' — file datasets: {', '.join(d.name for d in files) or 'none'}"
            )
        return chosen[0]
    if len(files) != 1:
        what = "no file dataset (a source that is a path)" if not files else f"{len(files)} file datasets"
        raise UsageError(f"the spec has {what} — name one with --dataset, or add a file `source:`")
    return files[0]


# ------------------------------------------------------------------------------ the builtin datasets' files
REPOSITORY = "https://github.com/carpentry-kit/carpentry-kit"
BUILTIN_PUBLISHED = "2026-12-01"


def builtin_metadata(name: str) -> dict[str, Any]:
    """The Croissant metadata shipped for ``builtin:<name>``, made from the file it is read from.

    ``digits`` is read from scikit-learn's ``digits.csv.gz`` (no header: columns 0-63 are the pixels, 64
    the label). ``heat-1d`` is generated, so its distribution is the generator program and its fields
    are the two arrays that ``heat_1d_dataset(seed)`` returns.
    """
    return {"digits": _digits_metadata, "heat-1d": _heat_metadata}[name]()


def _digits_metadata() -> dict[str, Any]:
    import sklearn.datasets

    from carpentry_kit.data.datasets import sha256_of

    path = Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"
    pixels = [
        {"name": f"pixel_{i}", "column": str(i), "data_type": "sc:Integer",
         "description": f"grey level 0-16 of pixel {i} (row {i // 8}, column {i % 8})"}
        for i in range(64)
    ]  # fmt: skip
    label = {"name": "target", "column": "64", "data_type": "sc:Integer", "description": "the digit 0-9"}
    return metadata(
        name="digits",
        description="Optical recognition of hand-written digits (UCI): 1,797 8x8 images, grey levels 0-16, "
        "10 classes, as shipped with scikit-learn (headerless CSV, one image per row, label last).",
        url="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        license_id="CC-BY-4.0",
        cite_as="Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten Digits. UCI Machine "
        "Learning Repository. https://doi.org/10.24432/C50P49",
        file={"id": "digits.csv.gz", "encoding": "application/gzip", "sha256": sha256_of(path),
              "url": "https://github.com/scikit-learn/scikit-learn/raw/main/sklearn/datasets/data/digits.csv.gz"},
        fields=[*pixels, label], published=BUILTIN_PUBLISHED,
    )  # fmt: skip


def _heat_metadata() -> dict[str, Any]:
    from carpentry_kit.data import heat_simulation
    from carpentry_kit.data.datasets import sha256_of

    path = Path(heat_simulation.__file__)
    fields = [
        {"name": "initial_profile", "column": "X", "data_type": "sc:Float",
         "description": "array X: 512 x 64 initial temperatures along the rod (float32)"},
        {"name": "final_profile", "column": "y", "data_type": "sc:Float",
         "description": "array y: 512 x 64 temperatures at t = 0.05 from explicit finite differences (float32)"},
    ]  # fmt: skip
    return metadata(
        name="heat-1d",
        description="512 simulated runs of 1-D heat diffusion u_t = 0.1 u_xx on [0, 1] with both ends at "
        "zero: random smooth initial profile -> profile at t = 0.05, 64 grid points. Generated, "
        "deterministically for a seed, by heat_1d_dataset in the distributed program.",
        url=REPOSITORY, license_id="BSD-3-Clause", cite_as=f"carpentry-kit heat-1d dataset, {REPOSITORY}",
        file={"id": "heat_simulation.py", "encoding": "text/x-python", "sha256": sha256_of(path),
              "url": f"{REPOSITORY}/raw/main/carpentry_kit/data/heat_simulation.py"},
        fields=fields, published=BUILTIN_PUBLISHED,
    )  # fmt: skip


def write_builtin_files() -> list[Path]:
    """(Re)write ``carpentry_kit/data/croissant/<name>.json`` for every builtin dataset."""
    BUILTIN_DIR.mkdir(exist_ok=True)
    paths = []
    for name in ("digits", "heat-1d"):
        path = BUILTIN_DIR / f"{name}.json"
        path.write_text(croissant_text(builtin_metadata(name)), encoding="utf-8")
        paths.append(path)
    return paths


def croissant_text(data: dict[str, Any]) -> str:
    """Croissant JSON-LD as the text of a ``.json`` file."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m carpentry_kit.spec.croissant: regenerate the builtin datasets' files
    for written in write_builtin_files():
        print(f"wrote {written}")
