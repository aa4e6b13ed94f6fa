"""Check the built site's internal links: every relative ``href`` and ``src`` names a file
that exists, and every ``#fragment`` an ``id`` on that page (``make docs`` runs it).

Sphinx's ``-W`` build already fails on a broken cross-reference or a Markdown link to a
missing page; this catches what ends up broken in the HTML anyway (a heading anchor that
changed, an image that was not copied, a link written as raw HTML). External links are not
followed: the build runs offline. Written with the standard library's HTML parser rather
than Sphinx's ``linkcheck`` builder, which checks external links (and needs the network)
and reads the source, not the pages a reader gets.

Usage: ``python docs/check_links.py docs/_build/html``; exit status 1 with one line per
broken link.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(site: Path) -> list[str]:
    """``page: link`` for every internal link of ``site`` that leads nowhere."""
    # _static/ holds the theme's template fragments, not pages.
    pages = {
        path: _parse(path)
        for path in sorted(site.rglob("*.html"))
        if "_static" not in path.relative_to(site).parts
    }
    broken = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue  # external: not checked offline
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {link} (no such file)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if fragment not in ids:
                    broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    return broken


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "docs/_build/html").resolve()
    if not (site / "index.html").exists():
        print(f"check_links: {site} holds no built site (run make docs)", file=sys.stderr)
        return 1
    broken = broken_links(site)
    for line in broken:
        print(line)
    n_pages = sum(1 for path in site.rglob("*.html") if "_static" not in path.parts)
    print(f"check_links: {n_pages} pages, {len(broken)} broken internal links", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
