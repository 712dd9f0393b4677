"""Interoperability with the MLCommons Science benchmark collection (``benchmarks-format.yaml``).

``to_mlcommons_entry`` turns a spec into a collection entry that the collection's own checker
(``bin/generate.py --check_structure``) accepts: every key present, in order, with the collection's value
conventions (``'yes'``/``'false'`` strings, ``Yes``/``No`` FAIR flags, ``unknown`` for what is not known, a
real BibTeX entry, only real links). ``import_entry`` goes the other way: an entry describes a benchmark
but cannot run it, so it becomes a spec skeleton whose ``task`` and ``metrics`` a learner fills in.
Nothing the entry holds is lost: what has a spec field goes there; ontology terms map only when they
match closely; everything else (unmapped terms, dataset links without a checksum, the collection's record
dates, the experts' ratings) is written as comments in the skeleton (``skeleton_yaml``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from carpentry_kit.errors import SpecError
from carpentry_kit.ontology import BENCHMARK_TYPES, VOCABULARIES
from carpentry_kit.spec.croissant import builtin_croissant
from carpentry_kit.spec.messages import name_slug
from carpentry_kit.spec.model import Benchmark, Spec, spec_hash
from carpentry_kit.spec.rating import CATEGORIES, Rating, rate_spec
from carpentry_kit.spec.schema import SCHEMA_ID

UNKNOWN = "unknown"
ENTRY_KEYS: tuple[str, ...] = (
    "date", "version", "last_updated", "expired", "valid", "valid_date", "name", "url", "doi", "domain",
    "focus", "keywords", "summary", "licensing", "task_types", "ai_capability_measured", "metrics", "models",
    "ml_motif", "type", "ml_task", "solutions", "notes", "contact", "cite", "datasets", "results", "fair",
    "ratings",
)  # fmt: skip
RATING_KEYS: tuple[str, ...] = tuple(key for key, _name, _judge in CATEGORIES)  # the `ratings` keys
# Ontology terms map only this close (difflib ratio, case-insensitive): a misspelling, not a neighbour.
TERM_SIMILARITY = 0.9
# Values the collection's checker flags as "TODO or N/A", and their like, all read as unknown.
JUNK = {"", "na", "n/a", "none", "null", "todo", "unknown", "unkown", "tbd", "-", "?"}


# ------------------------------------------------------------------------------------- spec -> entry
def to_mlcommons_entry(spec: Spec, rating: Rating | None = None) -> dict[str, Any]:
    """The MLCommons Science collection entry for ``spec`` (or a draft), keys in the collection's order.

    The collection requires a ``url``: a spec without ``benchmark.url`` raises SpecError.
    """
    bench = spec.benchmark
    if bench.url == UNKNOWN:
        hint = (
            "set `url:` under benchmark to where the benchmark lives (its repository or page), e.g. "
            f"https://github.com/you/{bench.name} (`carpentry new` leaves it unknown, marked TODO)"
        )
        raise SpecError([spec.problem_at(("benchmark", "url"), "the collection needs a url", hint)])
    rating = rating or rate_spec(spec)
    today = dt.date.today().isoformat()
    return {
        "date": today, "version": bench.version, "last_updated": today, "expired": "false", "valid": "yes",
        "valid_date": today, "name": bench.name, "url": bench.url, "doi": _doi(bench.paper),
        "domain": bench.terms("domain"), "focus": bench.summary or UNKNOWN, "keywords": bench.keywords or [UNKNOWN],
        "summary": " ".join((bench.description or bench.summary).split()) or UNKNOWN,
        "licensing": bench.license, "task_types": bench.tasks or bench.terms("task_type"),
        "ai_capability_measured": _capabilities(spec), "metrics": bench.measures or _metric_words(spec),
        "models": bench.models or _models(spec), "ml_motif": bench.terms("ml_motif"), "type": bench.type,
        "ml_task": bench.terms("task_type"), "solutions": _solutions(spec), "notes": _notes(spec),
        "contact": {"name": bench.contact.name, "email": bench.contact.email},
        "cite": bench.cite or [_bibtex(spec)], "datasets": _links(_dataset_links(spec)),
        "results": _links([(link.name, link.url) for link in spec.results.links]),
        "fair": _fair(spec, rating), "ratings": _ratings(rating),
    }  # fmt: skip


def _doi(paper: str) -> str:
    """The DOI in a paper reference; arXiv papers have one too (10.48550/arXiv.<id>)."""
    match = re.search(r"10\.\d{4,9}/\S+", paper)
    if match:
        return match.group(0)
    arxiv = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", paper)
    return f"10.48550/arXiv.{arxiv.group(1)}" if arxiv else UNKNOWN


def _capabilities(spec: Spec) -> list[str]:
    """What is measured, in words (never metric ids): stated, else the quality metrics' descriptions."""
    described = [m.description for m in spec.metrics if m.kind == "quality" and m.description]
    return spec.benchmark.capabilities or described or [spec.benchmark.summary or UNKNOWN]


def _metric_words(spec: Spec) -> list[str]:
    return [f"{m.name} ({m.kind}, {m.unit}, {m.goal})" for m in spec.metrics] or [UNKNOWN]


def _models(spec: Spec) -> list[str]:
    return [f"carpentry-kit workload {spec.task.workload}"] if spec.task else [UNKNOWN]


def _solutions(spec: Spec) -> str:
    if spec.benchmark.solutions != UNKNOWN:
        return spec.benchmark.solutions
    if spec.task is None:
        return UNKNOWN
    return f"Reference implementation: carpentry-kit workload '{spec.task.workload}' (`carpentry run SPEC`)."


def _notes(spec: Spec) -> str:
    generated = "Generated by carpentry-kit from spec_version 1"
    if spec.task is not None and spec.metrics:
        generated += f" (spec_hash {spec_hash(spec)[:16]})"
    return f"{spec.benchmark.notes} {generated}." if spec.benchmark.notes else f"{generated}."


def _bibtex(spec: Spec) -> str:
    """A BibTeX @misc entry for a spec that cites nothing: title, author, year and url."""
    bench = spec.benchmark
    year = dt.date.today().year
    label = re.sub(r"[^a-z0-9]", "", bench.name.lower()) + str(year)
    author = bench.contact.name if bench.contact.name != UNKNOWN else f"{{{bench.name} contributors}}"
    title = bench.summary or bench.name
    return (
        f"@misc{{{label},\n  title={{{bench.name}: {title}}},\n  author={{{author}}},\n  year={{{year}}},\n"
        f"  url={{{bench.url}}}\n}}\n"
    )


def _dataset_links(spec: Spec) -> list[tuple[str, str]]:
    """Each dataset's Croissant URL or public source (built-in and local data has no public link), then
    the benchmark's ``data_links``."""
    links = []
    for dataset in spec.datasets:
        candidates = (dataset.croissant, dataset.source, _builtin_page(dataset.source))
        public = [url for url in candidates if url and url.startswith(("http://", "https://"))]
        if public:
            links.append((dataset.name, public[0]))
    links += [(link.name, link.url) for link in spec.benchmark.data_links]
    return list(dict.fromkeys(links))


def _builtin_page(source: str) -> str | None:
    """The public page of a builtin dataset, from its shipped Croissant metadata."""
    path = builtin_croissant(source)
    return json.loads(path.read_text(encoding="utf-8")).get("url") if path else None


def _links(pairs: list[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    """``links``, as the collection writes them: real links, or one unknown link when there is none."""
    return {
        "links": [{"name": name, "url": url} for name, url in pairs] or [{"name": UNKNOWN, "url": UNKNOWN}]
    }


def _fair(spec: Spec, rating: Rating) -> dict[str, str]:
    """The FAIR flags the spec states, else judged from the rating (Yes/No, as the collection writes)."""
    stated = spec.benchmark.fair
    derived = {
        "reproducible": rating.category("reference_solution").score >= 3,
        "benchmark_ready": spec.task is not None and rating.category("software").score >= 3,
    }
    return {
        key: getattr(stated, key) if getattr(stated, key) != UNKNOWN else ("Yes" if flag else "No")
        for key, flag in derived.items()
    }


def _ratings(rating: Rating) -> dict[str, dict[str, Any]]:
    return {
        category.key: {"rating": category.score, "reason": _rating_reason(category)}
        for category in rating.categories
    }


def _rating_reason(category: Any) -> str:
    parts = category.reasons + [f"to improve: {advice}" for advice in category.advice]
    return "; ".join(parts) or UNKNOWN


class _IndentedDumper(yaml.SafeDumper):
    """Indents lists under their key by two spaces, as the collection's files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(data: Any) -> str:
    """YAML with two-space indents, keys in their given order."""
    return yaml.dump(data, Dumper=_IndentedDumper, sort_keys=False, indent=2, allow_unicode=True, width=100)


def entry_yaml(entry: dict[str, Any]) -> str:
    """An entry as a collection file: a one-item YAML list, two-space indent, keys in order.

    The collection's files (``source/benchmark-*.yaml``) are lists of entries; ``carpentry import`` reads
    such a file, or a single entry.
    """
    return dump_yaml([entry])


# ------------------------------------------------------------------------------ entry -> spec skeleton
@dataclass
class Imported:
    """A spec skeleton from an entry (plain data), the notes on what was changed or left out, and what
    has no spec field and is kept as comments (dataset links, the collection's record, expert ratings)."""

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    datasets: list[dict[str, str]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    ratings: dict[str, Any] = field(default_factory=dict)


def _junk(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in JUNK)


def _text(entry: dict[str, Any], key: str, notes: list[str]) -> str | None:
    """A text value, None when unknown; junk other than a plain 'unknown' gets a note."""
    value = entry.get(key)
    if isinstance(value, (list, dict)):
        value = None if not value else json.dumps(value)
    if _junk(value):
        if value is not None and str(value).strip() not in ("", UNKNOWN):
            notes.append(f"{key}: '{value}' read as unknown")
        return None
    return " ".join(str(value).split()) if key != "summary" else str(value).strip()


def _items(entry: dict[str, Any], key: str, notes: list[str]) -> list[str]:
    """A list value (a lone string becomes a one-item list), junk items dropped with a note."""
    value = entry.get(key)
    values = value if isinstance(value, list) else [] if value is None else [value]
    kept = [" ".join(str(item).split()) for item in values if not _junk(item)]
    dropped = [str(item) for item in values if _junk(item) and str(item).strip() not in ("", UNKNOWN)]
    if dropped:
        notes.append(f"{key}: {', '.join(repr(item) for item in dropped)} read as unknown")
    return kept


def _term(value: str, field: str) -> tuple[str | None, float]:
    """The ontology term for ``value`` and its similarity; None when none is close enough."""
    vocabulary = VOCABULARIES[field]
    scores = {term: difflib.SequenceMatcher(None, value.lower(), term.lower()).ratio() for term in vocabulary}
    best = max(scores, key=scores.__getitem__)
    return (best, scores[best]) if scores[best] >= TERM_SIMILARITY else (None, scores[best])


def _terms(values: list[str], entry_key: str, field: str, notes: list[str]) -> list[str]:
    terms: list[str] = []
    for value in values:
        term, similarity = _term(value, field)
        if term is None:
            notes.append(f"{entry_key}: '{value}' is not a {field} term of the ontology (left out)")
        elif term != value:
            notes.append(
                f"{entry_key}: '{value}' mapped to the {field} '{term}' (similarity {similarity:.2f})"
            )
        if term and term not in terms:
            terms.append(term)
    if values and not terms:
        default = Benchmark.model_fields[field].default
        notes.append(f"{field}: no term of the entry is in the ontology; the default '{default}' applies")
    return terms


_DOI_PREFIX = re.compile(r"^\s*(?:https?://)?(?:dx\.)?(?:doi\.org/|doi:\s*)", re.IGNORECASE)


def _clean_doi(raw: Any, notes: list[str]) -> str | None:
    """A bare DOI (10.xxxx/...) from a DOI, a doi.org URL or a doubled prefix; None for junk."""
    if _junk(raw):
        if raw is not None and str(raw).strip() not in ("", UNKNOWN):
            notes.append(f"doi: '{raw}' read as unknown")
        return None
    doi = str(raw).strip()
    while _DOI_PREFIX.match(doi):
        doi = _DOI_PREFIX.sub("", doi, count=1)
    if not re.match(r"^10\.\d{4,9}/\S+$", doi):
        notes.append(f"doi: '{raw}' is not a DOI (10.<registrant>/<suffix>); read as unknown")
        return None
    if doi != str(raw).strip():
        notes.append(f"doi: '{raw}' written as {doi}")
    return doi


_URL = re.compile(r"https?://[^\s)'\"<>]+")


def _link_list(value: Any, section: str, notes: list[str]) -> list[dict[str, str]]:
    """The ``{name, url}`` links of a ``datasets``/``results`` section (either format the collection used)."""
    links = value.get("links") if isinstance(value, dict) else value
    kept = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        name, url = str(link.get("name") or UNKNOWN), str(link.get("url") or "")
        found = _URL.search(url)
        if found is None:
            if not (_junk(url) and _junk(name)):
                notes.append(f"{section}: link '{name}' has no URL ('{url}'); left out")
            continue
        if found.group(0) != url.strip():
            notes.append(f"{section}: link '{name}': URL taken from '{url}'")
        kept.append({"name": name if not _junk(name) else section, "url": found.group(0)})
    return kept


def import_entry(entry: dict[str, Any]) -> Imported:
    """The spec skeleton of a collection entry, with notes on what was normalised or left out."""
    if not isinstance(entry, dict) or "name" not in entry:
        raise ValueError("an MLCommons entry is a mapping with at least a `name` — check the file")
    notes: list[str] = []
    bench = _benchmark(entry, notes)
    data: dict[str, Any] = {"spec_version": 1, "benchmark": bench}
    results = _link_list(entry.get("results"), "results", notes)
    if results:
        data["results"] = {"links": results}
    datasets = _link_list(entry.get("datasets", entry.get("dataset")), "datasets", notes)
    if datasets:
        bench["data_links"] = datasets
    record = {
        key: entry[key] for key in ("date", "last_updated", "expired", "valid", "valid_date") if key in entry
    }
    ratings = entry.get("ratings") if isinstance(entry.get("ratings"), dict) else {}
    return Imported(data, notes, datasets, record, ratings)


def _benchmark(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    bench: dict[str, Any] = {
        "name": re.sub(r"-{2,}", "-", name_slug(str(entry["name"]), "imported-benchmark"))
    }
    description_key = "summary" if "summary" in entry else "description"
    for spec_key, entry_key in (
        ("version", "version"), ("summary", "focus"), ("description", description_key),
        ("license", "licensing"), ("url", "url"), ("solutions", "solutions"), ("notes", "notes"),
    ):  # fmt: skip
        value = _text(entry, entry_key, notes)
        if value is not None:
            bench[spec_key] = value
    for spec_key, entry_key in (("domain", "domain"), ("ml_motif", "ml_motif"), ("task_type", "ml_task")):
        terms = _terms(_items(entry, entry_key, notes), entry_key, spec_key, notes)
        if terms:
            bench[spec_key] = terms[0] if len(terms) == 1 else terms
    for spec_key, entry_key in (
        ("keywords", "keywords"), ("cite", "cite"), ("tasks", "task_types"),
        ("capabilities", "ai_capability_measured"), ("measures", "metrics"), ("models", "models"),
    ):  # fmt: skip
        items = _items(entry, entry_key, notes) if entry_key != "cite" else _cites(entry, notes)
        if items:
            bench[spec_key] = items
    bench.update(_type(entry, notes) | _contact(entry, notes) | _fair_flags(entry, notes))
    doi = _clean_doi(entry.get("doi"), notes)
    if doi:
        bench["paper"] = f"https://doi.org/{doi}"
    return bench


def _cites(entry: dict[str, Any], notes: list[str]) -> list[str]:
    values = entry.get("cite") if isinstance(entry.get("cite"), list) else [entry.get("cite")]
    kept = [str(value) for value in values if isinstance(value, str) and value.strip().startswith("@")]
    dropped = [value for value in values if value is not None and str(value) not in kept]
    if dropped:
        notes.append(f"cite: {', '.join(repr(str(value)) for value in dropped)} is not BibTeX; left out")
    return kept


def _type(entry: dict[str, Any], notes: list[str]) -> dict[str, str]:
    value = _text(entry, "type", notes)
    if value is None:
        return {}
    match = next((kind for kind in BENCHMARK_TYPES if kind.lower() == value.lower()), None)
    if match is None:
        notes.append(f"type: '{value}' is not one of {', '.join(BENCHMARK_TYPES)} (left out)")
    return {"type": match} if match else {}


def _contact(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    contact = entry.get("contact") if isinstance(entry.get("contact"), dict) else {}
    kept = {key: _text(contact, key, notes) for key in ("name", "email")}
    kept = {key: value for key, value in kept.items() if value is not None}
    return {"contact": kept} if kept else {}


def _fair_flags(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The entry's FAIR flags, ``Yes``/``No`` as the collection writes them (booleans and any case)."""
    fair = entry.get("fair") if isinstance(entry.get("fair"), dict) else {}
    flags = {}
    for key in ("reproducible", "benchmark_ready"):
        value = fair.get(key)
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if _junk(value):
            continue
        text = str(value).strip()
        flags[key] = {"yes": "Yes", "no": "No", "true": "Yes", "false": "No"}.get(text.lower(), text)
    return {"fair": flags} if flags else {}


def from_mlcommons_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A spec skeleton (plain data) from a collection entry; it validates once ``task`` and ``metrics`` are
    added. Values the entry leaves unknown are left to the spec's defaults."""
    return import_entry(entry).data


# ---------------------------------------------------------------------------------------- the skeleton
_TODO_RUNNABLE = """\
# TODO: the runnable part. An MLCommons entry describes a benchmark; a spec also says how to run it.
# Pick a workload (`carpentry workloads` lists them) and its parameters, then the metrics it reports.
# `carpentry rate` rates this draft as it is; `carpentry validate` tells you what is still missing.
# task:
#   workload: matmul            # TODO: a registered workload
#   params: {size: 256}         # TODO: its parameters
# metrics:
#   - {name: latency_s, kind: performance, unit: s, goal: minimize}   # TODO
#   - {name: energy_j, kind: energy, unit: J, goal: minimize}         # TODO
"""


def _commented(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.rstrip().splitlines()]


def _dataset_comment(links: list[dict[str, str]]) -> list[str]:
    """The entry's datasets as a commented ``datasets:`` section (a URL source needs its sha256)."""
    names: list[str] = []
    for link in links:
        names.append(name_slug(link["name"], fallback="data") + (f"-{len(names)}" if len(names) else ""))
    items = [
        {"name": name, "source": link["url"], "sha256": "TODO", "description": link["name"]}
        for name, link in zip(names, links, strict=True)
    ]
    header = "TODO: datasets from the entry; a URL source needs its sha256 (`sha256sum FILE`)."
    return _commented(header + "\n" + dump_yaml({"datasets": items}))


def _ratings_comment(ratings: dict[str, Any]) -> list[str]:
    lines = ["The entry's expert ratings, for comparison (`carpentry rate` rates the content, not these):"]
    for key, value in ratings.items():
        value = value if isinstance(value, dict) else {"rating": value}
        reason = " ".join(str(value.get("reason", "")).split())
        lines.append(f"  {key}: {value.get('rating')} — {reason}".rstrip(" —"))
    return _commented("\n".join(lines))


def skeleton_yaml(entry: dict[str, Any]) -> str:
    """The spec skeleton of ``entry`` as commented YAML, with TODOs where the runnable parts go."""
    imported = import_entry(entry)
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_ID}",
        f"# Spec skeleton imported from the MLCommons Science collection entry '{entry['name']}'.",
    ]
    if imported.notes:
        lines += _commented("Import notes:\n" + "\n".join(f"  - {note}" for note in imported.notes))
    if imported.record:
        lines += _commented("The collection's record: " + json.dumps(imported.record, default=str))
    lines += [dump_yaml(imported.data).rstrip(), "", _TODO_RUNNABLE.rstrip()]
    if imported.datasets:
        lines += _dataset_comment(imported.datasets)
    if imported.ratings:
        lines += _ratings_comment(imported.ratings)
    return "\n".join(lines) + "\n"
