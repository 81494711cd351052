"""The report's sections, in page order.

Every section is one module here with the same small interface:

``ANCHOR``
    the section's HTML id (unique; also its link in the table of contents);
``TITLE``
    its heading, without a number: sections are numbered in list order (``NUMBERED = False``
    leaves one out, like the summary; ``ctx.section_ref(anchor)`` names a section by number);
``draw(ctx) -> dict[str, Figure]`` (optional)
    draws the section's figures into ``ctx.out_dir`` (called once the result tables exist,
    before the manifest and the file list are written);
``build(ctx) -> SectionContent``
    the section's content: paragraphs, figures, tables, in page order (called when the page
    is rendered; the figures drawn by ``draw`` are in ``ctx.figures[ANCHOR]``).

``ctx`` is a :class:`~simulation.report.content.ReportContext`. All text is plain: the page's
Jinja2 templates escape it, so a section never writes HTML (inline code, subscripts and bold
are :class:`~simulation.report.content.Code`, ``Sub`` and ``Bold`` pieces).

How to add a section: write one module here (``ANCHOR``, ``TITLE``, ``build`` and, if it has
figures, ``draw``; copy ``kpis.py`` for a start) and add it to :data:`SECTIONS` where it
belongs. Nothing else changes: the table of contents, the page and the file list follow.
"""

from __future__ import annotations

from types import ModuleType

from ..content import ReportContext, SectionContent
from . import (
    along_s,
    differences,
    headline,
    kpis,
    levers,
    methods,
    national,
    posterior,
    summary,
    survey,
    table1,
    validation,
    what_it_takes,
)

#: The sections in page order; the table of contents follows it.
SECTIONS: list[ModuleType] = [
    headline,
    summary,
    posterior,
    differences,
    survey,
    levers,
    national,
    table1,
    kpis,
    along_s,
    what_it_takes,
    validation,
    methods,
]


def draw(ctx: ReportContext, sections: list[ModuleType] | None = None) -> None:
    """Draw every section's figures (in list order) into ``ctx.out_dir``; stored in ``ctx.figures``."""
    for s in SECTIONS if sections is None else sections:
        if hasattr(s, "draw"):
            ctx.figures[s.ANCHOR] = s.draw(ctx)


def build(ctx: ReportContext, sections: list[ModuleType] | None = None) -> list[SectionContent]:
    """Every section's content, in list order, numbered (``ctx.numbers``)."""
    sections = SECTIONS if sections is None else sections
    numbered = [s.ANCHOR for s in sections if getattr(s, "NUMBERED", True)]
    ctx.numbers = {a: i for i, a in enumerate(numbered, 1)}
    out = []
    for s in sections:
        content = s.build(ctx)
        content.number = ctx.numbers.get(content.anchor)
        out.append(content)
    anchors = [c.anchor for c in out]
    if len(set(anchors)) != len(anchors):
        raise ValueError(f"report sections: duplicate anchor in {anchors}")
    return out
