"""The book: generated pages are up to date, and the built HTML works offline in a real browser.

The browser test builds the book into a temporary directory (every lesson executed, warnings are errors),
then opens every page in headless Chromium from ``file://`` with the network blocked: pages load without
console errors or failed local requests, next/previous links walk the whole book, each lesson's plots
are loaded images that fit the text column without overlapping, no code or output line runs off the page
(each lesson is screenshotted beside the build for a human to look at), and no exercise page shows
solution code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carpentry_kit.cli import pages
from carpentry_kit.teaching import curriculum

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def test_spec_reference_is_generated_and_up_to_date():
    page = (ROOT / curriculum.SPEC_REFERENCE_FILE).read_text(encoding="utf-8")
    assert "This page is generated" in page
    assert page == curriculum.spec_reference_markdown(), f"run `{curriculum.REGENERATE}`"


def test_spec_reference_covers_every_section_and_field():
    from carpentry_kit.spec.model import Protocol, Spec

    page = curriculum.spec_reference_markdown()
    for name in [*Spec.model_fields, *Protocol.model_fields]:
        assert f"| `{name}` |" in page
    assert Protocol.model_fields["repeats"].description in page


def test_cli_reference_is_generated_and_up_to_date():
    from carpentry_kit.cli.main import COMMANDS

    page = (ROOT / curriculum.CLI_REFERENCE_FILE).read_text(encoding="utf-8")
    assert "This page is generated" in page
    assert all(f"## `carpentry {name}`" in page for name in COMMANDS)
    assert page == pages.cli_reference_markdown(), f"run `{curriculum.REGENERATE}`"


def test_toc_lists_lessons_exercises_and_guides():
    toc = (ROOT / "book" / "_toc.yml").read_text(encoding="utf-8")
    for entry in (
        "glob: lessons/0*",
        "glob: exercises/lesson*/*",
        "file: exercises/assessment-pre/assessment-pre",
        "file: exercises/assessment-post/assessment-post",
        "file: instructor-guide",
        "file: grading",
        "file: setup",
        "file: assessment",
        "file: common-mistakes",
        "file: learner-profiles",
        "file: helpers-guide",
        "file: code-of-conduct",
        "file: licence",
    ):
        assert entry in toc
    assert (ROOT / "book" / "lessons").resolve() == (ROOT / "lessons").resolve()
    assert (ROOT / "book" / "exercises").resolve() == (ROOT / "exercises").resolve()


def test_assessment_and_common_mistakes_pages_are_generated_from_the_inventory():
    generated = pages.generated_pages(ROOT)
    for page in (curriculum.ASSESSMENT_FILE, curriculum.MISTAKES_FILE):
        assert (ROOT / page).read_text(encoding="utf-8") == generated[ROOT / page], (
            f"run `{curriculum.REGENERATE}`"
        )
    assert "The mean is a robust summary" in generated[ROOT / curriculum.MISTAKES_FILE]


def test_config_executes_lessons_strictly_and_loads_nothing_remote():
    import yaml

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    execute = config["execute"]
    assert execute["execute_notebooks"] == "force" and execute["allow_errors"] is False
    assert any(pattern.startswith("exercises/") for pattern in execute["exclude_patterns"])
    assert config["launch_buttons"]["thebe"] is False
    assert config["sphinx"]["config"]["nb_ipywidgets_js"] == {}


# --- the built book in a browser -------------------------------------------------------------------


def _open(browser, url: str) -> tuple[object, list[str]]:
    """A page at ``url`` with network access blocked; returns it and the list of problems seen."""
    problems: list[str] = []
    page = browser.new_page()
    page.route(
        re.compile(r"^https?://"),
        lambda route: (problems.append(f"remote request {route.request.url}"), route.abort()),
    )
    page.on(
        "console", lambda message: message.type == "error" and problems.append(f"console: {message.text}")
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "requestfailed",
        lambda request: request.url.startswith("file:") and problems.append(f"failed: {request.url}"),
    )
    page.goto(url, wait_until="load")
    return page, problems


@pytest.mark.slow
@pytest.mark.browser
def test_built_book_works_offline_in_a_browser(built_book):
    from browser import launch_browser

    pages = sorted(
        path
        for path in built_book.rglob("*.html")
        if not path.relative_to(built_book).parts[0].startswith("_")
    )
    lessons = [path for path in pages if path.parent.name == "lessons"]
    exercises = [path for path in pages if "exercises" in path.relative_to(built_book).parts[:-1]]
    assert len(lessons) == len(curriculum.lesson_paths(ROOT / "lessons")) and exercises
    with launch_browser() as browser:
        for path in pages:
            page, problems = _open(browser, path.as_uri())
            assert problems == [], f"{path.name}: {problems}"
            if path in lessons:
                _assert_plots_loaded(page, path)
                _assert_fits_the_page(page, path, built_book.parent / "screenshots")
            if path in exercises:
                text = page.inner_text("body")
                assert not any(marker in text for marker in SOLUTION_MARKERS), (
                    f"{path.name} shows solution markers"
                )
            page.close()
        _assert_navigation_walks_the_book(browser, built_book, lessons)


def _assert_plots_loaded(page, path: Path) -> None:
    widths = page.eval_on_selector_all(
        "main img[src*='_images/']", "images => images.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert widths and all(width > 0 for width in widths), f"{path.name}: plot images {widths}"


def _assert_fits_the_page(page, path: Path, screenshots: Path) -> None:
    """No code or output line is cut off sideways; figures sit inside the text column, one below another."""
    page.set_viewport_size({"width": 1280, "height": 900})
    clipped = page.eval_on_selector_all(
        "main pre",
        "blocks => blocks.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText.slice(0, 80))",
    )
    assert clipped == [], f"{path.name}: lines run off the page in {clipped}"
    column = page.eval_on_selector(
        "main article", "a => { const r = a.getBoundingClientRect(); return [r.left, r.right]; }"
    )
    boxes = page.eval_on_selector_all(
        "main img[src*='_images/']",
        "images => images.map(i => { const r = i.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })",
    )
    for left, _, right, _ in boxes:
        assert column[0] - 1 <= left and right <= column[1] + 1, (
            f"{path.name}: a figure is wider than the column"
        )
    for first, second in zip(boxes, boxes[1:], strict=False):
        assert first[3] <= second[1] + 1, f"{path.name}: figures overlap: {first} and {second}"
    screenshots.mkdir(exist_ok=True)
    page.screenshot(path=str(screenshots / f"{path.stem}.png"), full_page=True)


def _assert_navigation_walks_the_book(browser, html: Path, lessons: list[Path]) -> None:
    page, problems = _open(browser, (html / "intro.html").as_uri())
    visited = [page.url]
    while page.locator("a.right-next").count():
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        assert page.url not in visited, f"next link loops back to {page.url}"
        visited.append(page.url)
    assert [url for url in visited if "/lessons/" in url] == [path.as_uri() for path in lessons]
    page.locator("a.left-prev").first.click()
    page.wait_for_load_state("load")
    assert page.url == visited[-2] and problems == []
