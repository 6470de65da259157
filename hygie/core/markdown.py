"""The one Markdown dialect of texts Hygie ships or stores (training modules, crisis
scenarios, the crisis binder): CommonMark with tables and strikethrough, HTML in the source
shown as text, never interpreted. Each use adds its own rendering rules to a fresh parser."""

from __future__ import annotations

from markdown_it import MarkdownIt


def parser() -> MarkdownIt:
    """A new parser of the dialect (a new one, since callers add rules to it)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md
