"""Report renderers: one run report, five formats (text, json, markdown, html, junit).

``render(report, Format.MARKDOWN)`` returns the text; writing it anywhere is the
caller's business.
"""

from __future__ import annotations

from gonogo.gates.results import RunReport
from gonogo.report.html import render_html
from gonogo.report.interface import Format, Renderer, ReportError, ReportKind
from gonogo.report.json import render_json
from gonogo.report.junit import render_junit
from gonogo.report.markdown import render_markdown
from gonogo.report.text import render_text

__all__ = ["BUILTIN_RENDERERS", "Format", "Renderer", "ReportError", "ReportKind", "render"]

#: the built-in renderer of every format
BUILTIN_RENDERERS: dict[Format, Renderer] = {
    Format.TEXT: render_text,
    Format.JSON: render_json,
    Format.MARKDOWN: render_markdown,
    Format.HTML: render_html,
    Format.JUNIT: render_junit,
}


def render(
    report: RunReport,
    fmt: Format,
    *,
    kind: ReportKind = ReportKind.CHECK,
    color: bool = False,
    width: int = 100,
) -> str:
    """Render ``report`` in format ``fmt``; ``color`` and ``width`` matter for text only."""
    try:
        renderer = BUILTIN_RENDERERS[Format(fmt)]
    except (KeyError, ValueError) as error:
        choices = ", ".join(f.value for f in Format)
        raise ReportError(f"unknown report format {fmt!r}", hint=f"use one of {choices}") from error
    return renderer(report, kind=ReportKind(kind), color=color, width=width)
