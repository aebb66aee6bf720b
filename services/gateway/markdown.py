"""Playbook instructions, written in Markdown, as HTML for a page. CommonMark with raw HTML
turned off: anything that looks like a tag is shown as text, so a playbook cannot put script
or markup of its own on a page (markdown-it also refuses `javascript:` links)."""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markupsafe import Markup


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def rendered(text: str) -> Markup:
    """The Markdown `text` as safe HTML, ready for a template."""
    return Markup(_parser().render(text))  # markdown-it escaped every tag
