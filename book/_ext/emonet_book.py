"""Small fixes to the pages Jupyter Book 1 writes (a local Sphinx extension, see _config.yml).

- Each inline script appears once: with this Jupyter Book's theme, sphinx-thebe's and
  sphinx-togglebutton's configuration scripts end up twice in every page, and the second
  ``const THEBE_JS_URL`` is a JavaScript error. The written pages are cleaned after the build.
- The book's own ``_static`` files (its CSS, its icon) are copied into the output on every build:
  an incremental Sphinx 7.4 build keeps the copy of an earlier build, so an edit would not arrive.
"""

import re
import shutil
from pathlib import Path

INLINE_SCRIPT = re.compile(r"[ \t]*<script>(.*?)</script>\n?", re.S)


def _script_once(html: str) -> str:
    seen = set()

    def keep_first(match):
        if match.group(1) in seen:
            return ""
        seen.add(match.group(1))
        return match.group(0)

    return INLINE_SCRIPT.sub(keep_first, html)


def _clean_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for asset in (Path(app.srcdir) / "_static").glob("*"):
        if asset.is_file():
            (Path(app.outdir) / "_static").mkdir(exist_ok=True)
            shutil.copyfile(asset, Path(app.outdir) / "_static" / asset.name)
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _script_once(text)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _clean_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
