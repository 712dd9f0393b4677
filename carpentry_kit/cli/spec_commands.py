"""The spec commands of ``carpentry``: new, validate, rate, schema, export, import, croissant.

Bad input is printed as one line per problem and exits 2; nothing here prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from carpentry_kit.cli.options import add_set_option

EXIT_OK, EXIT_BAD_INPUT = 0, 2

SCHEMA_HELP = """\
Editors with the YAML language server (VS Code's YAML extension, JupyterLab's LSP) complete and check a spec
as you type when its first line names the schema:

    # yaml-language-server: $schema=carpentry-spec.schema.json

(a path relative to the spec, or a URL). Write the schema file with `carpentry schema -o FILE`.
"""


EPILOGS = {
    "new": """\
examples:
  carpentry new -o my-bench.yaml --name my-bench   # then edit it, validate and rate it
The starter is a matrix-multiply microbenchmark that validates as written; its comments explain each section.
""",
    "validate": """\
Each problem is one line, FILE:LINE:COL: field.path: what is wrong — how to fix it; every problem of every
file is reported at once. Exit code: 0 all specs are valid, 2 a spec has problems.

examples:
  carpentry validate my-bench.yaml
  carpentry validate my-bench.yaml --set task.params.size=512 --set protocol.seeds=[1,2]
""",
    "rate": """\
Scores the six categories of the MLCommons Science rubric (software environment; problem specification and
constraints; FAIR dataset; metrics; reference solution; documentation), 0-5 each, from what the spec states.
Each point comes with its reason (+) and each missing point with the edit that earns it (-): edit, re-rate.
A README.md next to the spec counts as documentation. A draft (no task or metrics yet, e.g. an imported
skeleton) is rated on what it has, and the rating says what is still missing; `carpentry validate` is strict.
Exit code: 0 rated, 2 the spec has problems.
""",
    "schema": SCHEMA_HELP,
    "export": """\
Writes the spec as an entry of the MLCommons Science benchmark collection (benchmarks-format.yaml): every
field present, "unknown" where the spec says nothing, ratings from `carpentry rate`. Needs benchmark.url.
""",
    "import": """\
Writes a spec skeleton from a collection entry: everything the entry holds, as spec fields or, where the spec
has none, as comments (with a note on every value normalised and every ontology term mapped or left out).
Fill in the TODOs (task, metrics and dataset checksums) until `carpentry validate` says OK.
""",
    "croissant": """\
Writes Croissant (MLCommons' JSON-LD dataset metadata) for a file dataset of the spec: name, description,
licence, sha256 and one field per CSV column or .npz array. Point the dataset's `croissant:` at the file.

examples:
  carpentry croissant my-bench.yaml -o data/croissant.json
""",
}


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of command ``name`` to its sub-parser."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOGS.get(name)
    {
        "new": _new_arguments,
        "validate": _validate_arguments,
        "rate": _rate_arguments,
        "schema": _schema_arguments,
        "export": _export_arguments,
        "import": _import_arguments,
        "croissant": _croissant_arguments,
    }[name](parser)


def _output_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help=f"write {what} to FILE (default: standard output)"
    )


def _new_arguments(parser: argparse.ArgumentParser) -> None:
    _output_argument(parser, "the spec")
    parser.add_argument("--name", default="my-benchmark", help="benchmark name (lower case, digits, . _ -)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files to check")
    add_set_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only, no OK lines")


def _rate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="spec file to rate")
    parser.add_argument(
        "--json", action="store_true", help="print the rating as JSON (scores, reasons, advice)"
    )


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    _output_argument(parser, "the JSON Schema")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="spec file to export")
    _output_argument(parser, "the MLCommons entry (YAML)")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "entry", metavar="ENTRY.yaml", help="an MLCommons Science collection entry (or a list of them)"
    )
    parser.add_argument("--name", help="which entry, when the file holds several")
    _output_argument(parser, "the spec skeleton")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _croissant_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="spec file whose file dataset to describe")
    parser.add_argument("--dataset", metavar="NAME", help="which dataset, when the spec has several files")
    _output_argument(parser, "the Croissant JSON-LD")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command (errors are mapped to exit codes by ``cli.main.handle_errors``)."""
    commands = {"new": _new, "validate": _validate, "rate": _rate, "schema": _schema, "export": _export}
    return {**commands, "import": _import, "croissant": _croissant}[args.command](args)


def _print_problems(problems: list[Any]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _write(text: str, output: str | None, force: bool = True) -> None:
    """Print ``text``, or write it to ``output`` (refusing to overwrite unless ``force``)."""
    from carpentry_kit.errors import UsageError

    if output is None:
        sys.stdout.write(text)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists — choose another name or add --force to overwrite it")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{output}: cannot write: {error.strerror} — check the folder exists") from None
    print(f"wrote {output}", file=sys.stderr)


# ------------------------------------------------------------------------------------------- commands
def _validate(args: argparse.Namespace) -> int:
    from carpentry_kit.errors import SpecError
    from carpentry_kit.spec.load import load_spec, parse_overrides
    from carpentry_kit.spec.model import spec_hash

    overrides = parse_overrides(args.overrides)
    failed = 0
    for path in args.specs:
        try:
            spec = load_spec(path, overrides)
        except SpecError as error:
            failed += 1
            _print_problems(error.problems)
            continue
        if not args.quiet:
            print(f"{path}: OK ({spec.benchmark.name}, spec_hash {spec_hash(spec)[:12]})")
    if failed and len(args.specs) > 1:
        print(f"{failed} of {len(args.specs)} specs have problems", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _rate(args: argparse.Namespace) -> int:
    from carpentry_kit.spec.rating import load_draft, rate_spec

    rating = rate_spec(load_draft(args.spec), spec_path=args.spec)
    print(json.dumps(rating.to_dict(), indent=2) if args.json else rating)
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from carpentry_kit.spec.schema import json_schema

    _write(schema_text(json_schema()), args.output)
    return EXIT_OK


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the text of ``carpentry-spec.schema.json``."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _export(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from carpentry_kit.errors import SpecError
    from carpentry_kit.spec.load import load_spec
    from carpentry_kit.spec.mlcommons import entry_yaml, to_mlcommons_entry
    from carpentry_kit.spec.rating import rate_spec

    spec = load_spec(args.spec)
    try:
        entry = to_mlcommons_entry(spec, rate_spec(spec, spec_path=args.spec))
    except SpecError as error:  # name the file the problem is in
        raise SpecError([replace(problem, file=args.spec) for problem in error.problems]) from None
    _write(entry_yaml(entry), args.output)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from carpentry_kit.spec.mlcommons import skeleton_yaml

    entry = _read_entry(args.entry, args.name)
    _write(skeleton_yaml(entry), args.output, force=args.force)
    return EXIT_OK


def _croissant(args: argparse.Namespace) -> int:
    from carpentry_kit.spec.croissant import croissant_text, file_croissant
    from carpentry_kit.spec.load import load_spec

    spec = load_spec(args.spec)
    data = file_croissant(spec, Path(args.spec).resolve().parent, args.dataset)
    _write(croissant_text(data), args.output, force=args.force)
    return EXIT_OK


def _read_entry(path: str, name: str | None) -> dict[str, Any]:
    """One entry from an MLCommons YAML file holding an entry or a list of entries."""
    import yaml

    from carpentry_kit.errors import UsageError, did_you_mean

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror} — check the path") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise UsageError(f"{where}: not valid YAML — check indentation and quotes") from None
    entries = data if isinstance(data, list) else [data]
    entries = [entry for entry in entries if isinstance(entry, dict) and "name" in entry]
    if not entries:
        raise UsageError(f"{path}: no MLCommons entry (a mapping with `name:`) — check the file")
    names = [str(entry["name"]) for entry in entries]
    if name is None and len(entries) == 1:
        return entries[0]
    if name in names:
        return entries[names.index(name)]
    if name is None:
        raise UsageError(
            f"{path} holds {len(entries)} entries — pick one with --name (e.g. --name '{names[0]}')"
        )
    raise UsageError(f"{path}: no entry named '{name}' — {did_you_mean(name, names)}")


def _new(args: argparse.Namespace) -> int:
    import re

    from carpentry_kit.errors import UsageError
    from carpentry_kit.spec.model import NAME_PATTERN

    if not re.match(NAME_PATTERN, args.name):
        raise UsageError(
            f"--name {args.name!r} is not a valid name — use lower case, digits, . _ - e.g. my-benchmark"
        )
    _write(starter_spec(args.name), args.output, force=args.force)
    return EXIT_OK


def starter_spec(name: str) -> str:
    """A commented starter spec that validates: a matrix-multiply microbenchmark to adapt."""
    from carpentry_kit.spec.schema import SCHEMA_ID

    return STARTER.format(name=name, schema=SCHEMA_ID)


STARTER = """\
# yaml-language-server: $schema={schema}
# A starter benchmark specification. Edit it, then check it with `carpentry validate FILE`
# and see how complete it is with `carpentry rate FILE`. Every field is explained in the schema
# (`carpentry schema`); fields left out take their defaults.
spec_version: 1

# What the benchmark is, and where it sits in the ontology (domain, ml_motif, task_type).
benchmark:
  name: {name}
  version: "0.1"                     # quote versions: 1.0 unquoted is a number
  summary: Dense matrix-multiply throughput and energy on one node.
  description: >
    Multiplies two square float32 matrices and reports floating-point throughput. Replace this with the
    background, the motivation and how results are judged.
  domain: Computer Systems
  ml_motif: Linear Algebra Kernel
  task_type: Microbenchmark
  keywords: [matmul, microbenchmark]
  license: BSD-3-Clause
  url: unknown                       # TODO: where the code lives — `carpentry export` needs it

# What a run needs; checked before it starts.
infrastructure:
  cpu_cores: 1
  memory_gb: 1
  accelerator: {{use: optional}}       # none | optional | required
  software:
    python: ">=3.10"
    packages: {{torch: ">=2.1"}}
  threads: 1

# The data (none for a microbenchmark). Example:
# datasets:
#   - {{name: digits, source: "builtin:digits", splits: {{train: 0.8, test: 0.2}}, license: CC-BY-4.0}}

# The workload to run (`carpentry workloads` lists them) and its parameters.
task:
  workload: matmul
  params: {{size: 256}}
  seed: 0

# What is reported. kind: quality | performance | energy; goal: maximize | minimize.
metrics:
  - {{name: gflops, kind: performance, unit: GFLOP/s, goal: maximize}}
  - {{name: energy_per_sample_j, kind: energy, unit: J, goal: minimize}}

# Limits a valid run must respect.
constraints:
  time_budget_s: 60

# How it is run: scenario offline | single-stream | time-to-quality; untimed warm-up, timed repeats.
protocol:
  scenario: offline
  warmup: 1
  repeats: 5
  division: open                     # closed: only the fields in `tunable` may be overridden (--set, sweeps)
  # tunable: [task.params.size]
"""
