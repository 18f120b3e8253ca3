"""Integration: the whole pipeline at a tiny size into a temporary book, a strict (-W) Jupyter
Book build, and the built book opened in headless Chromium (pages, figures, internal links)."""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
import yaml

from emonet.build.browser import CHROMIUM_FLAGS, WIDTHS, inspect_book
from emonet.build.notebooks import notebooks
from emonet.build.pipeline import Pipeline
from emonet.paths import BOOK_DIR

pytestmark = pytest.mark.integration

#: Parameter overrides that make every chapter tiny (keys must exist in notebooks/params).
TINY: dict = {
    "n_images": 1200,
    "sim_images": 150,
    "sim_replications": 2,
    "max_epochs_pretrain": 4,
    "max_epochs_finetune": 3,
    "n_neutral": 8,
    "vlm_demo_images": 1,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("compendium")
    book = root / "book"
    shutil.copytree(
        BOOK_DIR, book, ignore=shutil.ignore_patterns("_build", ".stamps", ".staging", "*.ipynb")
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EMONET_DATA_DIR", str(mirror))
        env.setenv("EMONET_CACHE_DIR", str(root / "cache"))
        pipeline = Pipeline(
            "local",
            book_dir=book,
            artifacts_dir=root / "artifacts",
            overrides=TINY,
            log=lambda _: None,
        )
        steps = pipeline.run()
        index = pipeline.build(all_pages=True)  # what `emonet book` does: staged, then published
    return root, book, index, steps


def chapter_pages(book: Path) -> list[str]:
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f"{f}.html" for f in files]


def test_every_notebook_ran_clean(built):
    root, book, index, steps = built
    assert [s.stem for s in steps] == [nb.stem for nb in notebooks()]
    assert all(s.status == "ran" for s in steps)
    for step in steps:
        nb = nbformat.read(book / f"{step.stem}.ipynb", as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", (step.stem, cell.source[:80])
                if out.get("name") == "stderr":
                    assert "warning" not in out["text"].lower(), (step.stem, out["text"][:300])


def test_artifacts_contract(built):
    """Every glued figure of a chapter is a PNG and every chapter wrote CSV tables."""
    root, book, index, steps = built
    for step in steps:
        text = (book / f"{step.stem}.ipynb").read_text()
        figures = set(re.findall(r"\{glue:figure\} (\w+)", text))
        pngs = [o for o in step.outputs if o.startswith("figures/") and o.endswith(".png")]
        tables = [o for o in step.outputs if o.startswith("tables/") and o.endswith(".csv")]
        assert len(pngs) >= len(figures) > 0, step.stem
        assert tables, step.stem
        for rel in pngs + tables:
            assert (root / "artifacts" / rel).stat().st_size > 0


#: What must not reach a reader: a MyST role left unresolved (a glue inside backticks, say),
#: Markdown printed as it was written (a glued plain text with *emphasis* or `code`), a traceback,
#: a missing number printed as nan.
UNRESOLVED = re.compile(
    r"\{(?:glue|numref|doc|ref|cite)[:}]|\*\w[^*\n]*\*|`[^`\n]+`"
    r"|Traceback \(most recent|\bnan\b"
)


def visible_text(html: str) -> str:
    """The text of a built page, without scripts, styles and tags."""
    import html as entities

    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return entities.unescape(re.sub(r"<[^>]+>", " ", html))


def test_no_page_shows_an_unresolved_role_raw_markdown_a_traceback_or_nan(built):
    root, book, index, steps = built
    site = index.parent
    found = [
        (name, m.group(0))
        for name in chapter_pages(book)
        for m in UNRESOLVED.finditer(visible_text((site / name).read_text()))
    ]
    assert found == []
    for html in (
        "<p>cache <code>{glue:text}</code>x``</p>",
        "<p>within *South Asian* all</p>",
        "<p>(`real_source` is unset)</p>",
        "<td>nan</td>",
    ):
        assert UNRESOLVED.search(visible_text(html)), html


def test_book_in_a_real_browser(built):
    """Every page at a desktop and a phone width: screenshots under artifacts/<profile>/
    screenshots/, no failed page or image, no console error, nothing running past the text
    column, no visible code cell; and every internal link and anchor resolves."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("EMONET_BROWSER") or shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed (make browser installs it)")
    root, book, index, steps = built
    site, pages = index.parent, chapter_pages(book)
    shots = root / "artifacts" / "screenshots"
    problems = inspect_book(site, pages, shots, chromium)
    assert not problems, "\n".join(map(str, problems))
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{Path(name).stem}-{width}.png" for name in pages for width in WIDTHS
    )
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS))
            page = browser.new_page()
            checked_links = 0
            for name in pages:
                page.goto(base + name, wait_until="load")
                assert page.locator("h1").count() >= 1, f"{name}: no title"
                if name != "intro.html" and name[:2].isdigit():
                    assert page.locator("img").count() >= 1, f"{name}: a chapter without figures"
                hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                for href in hrefs:
                    if href.startswith(base):
                        _check_link(page.context, base, href)
                        checked_links += 1
            assert checked_links > 10
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


@functools.cache
def _ids(html: str) -> frozenset:
    return frozenset(re.findall(r'id="([^"]+)"', html))


def _check_link(context, base: str, href: str) -> None:
    url = urlparse(href)
    target = urljoin(base, url.path)
    response = context.request.get(target)
    assert response.ok, f"broken internal link {href}: HTTP {response.status}"
    if url.fragment and target.endswith(".html"):
        assert url.fragment in _ids(response.text()), f"broken anchor in {href}"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
