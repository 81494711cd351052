"""The self-contained HTML page: the sections of :mod:`simulation.report.sections`, in list
order, rendered by the Jinja2 templates in ``simulation/report/templates/`` (figures embedded
as base64 PNG, inline CSS, no external resource).

The environment autoescapes everything: sections hand over plain text (and structured pieces
for inline code, subscripts and bold), never HTML, so a scenario's name or description, a
file name or a field of the compare file cannot inject markup into the page.
"""

from __future__ import annotations

from functools import cache

import jinja2

from .content import ReportContext, SectionContent
from .sections import build
from .sections.summary import statements as summary_statements  # noqa: F401  (compare.py's name for it)


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report: package templates, autoescape on, undefined is an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("simulation.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_sections(ctx: ReportContext, sections: list[SectionContent]) -> str:
    """The page for already built ``sections``."""
    return (
        environment().get_template("report.html.j2").render(title=ctx.title, subtitle=ctx.subtitle, sections=sections)
    )


def render(ctx: ReportContext) -> str:
    """The page: every section of :data:`~simulation.report.sections.SECTIONS` built and rendered."""
    return render_sections(ctx, build(ctx))
