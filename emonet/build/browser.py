"""The built book as a reader sees it: every page opened in a real Chromium at a desktop and a
phone width, photographed, and checked for what a reader would notice.

:func:`inspect_book` serves the HTML folder on a loopback port, opens each page with Playwright
(driving an installed Chromium; nothing is downloaded) and returns the problems it finds:
a page or resource that fails to load, an image that does not load, a console error of the book's
own (resources from the internet, such as MathJax from its CDN, are not checked offline), text or an
element running past the page's text column (outside a scroll box), and a visible code cell on a
page (the book shows code only in cells tagged ``show-input``). Screenshots go to a folder
(``artifacts/<profile>/screenshots/`` by convention), one per page and width.
"""

from __future__ import annotations

import functools
import http.server
import threading
from dataclasses import dataclass
from pathlib import Path

#: Viewport widths (pixels) every page is checked at.
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
#: Flags for a headless Chromium in a sandbox without network.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)

#: Elements that run past the right edge of the article, outside any scroll box.
_OVERFLOW = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  if (!article) return ['no article element'];
  const edge = article.getBoundingClientRect().right + 1;
  const scrolls = el => {
    for (let e = el; e && e !== article; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const bad = [];
  for (const el of article.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= edge || scrolls(el.parentElement)) continue;
    bad.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} ends at ` +
             `${Math.round(r.right)} px past ${Math.round(edge)} px: ` +
             `${(el.textContent || '').trim().slice(0, 60)}`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    bad.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px wide)`);
  }
  return bad.slice(0, 5);
}"""

#: Code cells whose input a reader can see, unless tagged show-input.
_VISIBLE_CODE = """() => Array.from(document.querySelectorAll('div.cell_input'))
  .filter(el => el.offsetParent !== null && !el.closest('.tag_show-input'))
  .map(el => (el.textContent || '').trim().slice(0, 60))"""

#: Images on the page: source, loaded, natural width.
_IMAGES = """() => Array.from(document.images).map(
  e => [e.getAttribute('src'), e.complete, e.naturalWidth])"""


@dataclass(frozen=True)
class Problem:
    """One thing a reader would notice: the page, the width and what is wrong."""

    page: str
    width: str
    what: str

    def __str__(self) -> str:
        return f"{self.page} ({self.width}): {self.what}"


def _ours(url: str, base: str) -> bool:
    """Whether a console message concerns the book itself (its pages, scripts and files), not a
    resource on the internet (MathJax from its CDN), which an offline check cannot load."""
    return not url or url.startswith(base)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    """The book's local server: a request the browser drops (a closed page) is not a problem of
    the book, so it prints nothing; failed pages and images are caught in the browser."""

    def handle_error(self, request, client_address):
        pass


def inspect_book(site: Path, pages: list[str], screenshots: Path, browser: str) -> list[Problem]:
    """Open every page of the HTML folder ``site`` (``pages``: file names such as
    ``06_model_vs_experts.html``) at each of :data:`WIDTHS` in the Chromium at ``browser``, save a
    full-page screenshot per page and width under ``screenshots`` and return the problems."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    screenshots = Path(screenshots)
    screenshots.mkdir(parents=True, exist_ok=True)
    problems: list[Problem] = []
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=browser, args=list(CHROMIUM_FLAGS)
            )
            for width, (w, h) in WIDTHS.items():
                tab = chromium.new_page(viewport={"width": w, "height": h})
                where = {"page": ""}

                def note(what: str, width=width, where=where) -> None:
                    problems.append(Problem(where["page"], width, what))

                tab.on(
                    "console",
                    lambda m, note=note: (
                        m.type == "error"
                        and _ours(m.location.get("url", ""), base)
                        and note(f"console error: {m.text[:200]}")
                    ),
                )
                tab.on("pageerror", lambda e, note=note: note(f"script error: {e}"))
                tab.on(
                    "response",
                    lambda r, note=note: (
                        r.url.startswith(base)
                        and r.status >= 400
                        and note(f"HTTP {r.status} for {r.url[len(base) :]}")
                    ),
                )
                for name in pages:
                    where["page"] = name
                    response = tab.goto(base + name, wait_until="load")
                    if response is None or not response.ok:
                        note("the page does not load")
                        continue
                    tab.screenshot(
                        path=str(screenshots / f"{Path(name).stem}-{width}.png"), full_page=True
                    )
                    for src, complete, natural in tab.evaluate(_IMAGES):
                        if not complete or not natural:
                            note(f"image {src} did not load")
                    for what in tab.evaluate(_OVERFLOW):
                        note(f"overflow: {what}")
                    for code in tab.evaluate(_VISIBLE_CODE):
                        note(f"a code cell is visible: {code!r}")
                tab.close()
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()
    return problems
