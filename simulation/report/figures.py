"""Shared plotting helpers of the report's sections (each section draws its own figures in
``simulation/report/sections/``): Okabe-Ito colour-blind-safe colours, PNG written atomically.
Every figure has a title, axis labels with units and a legend."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from ..io import atomic_write_bytes

#: Okabe-Ito colours of the two governance models.
MODEL_COLOURS = {"partnership": "#0072B2", "symbiotic": "#D55E00"}
OBSERVED_COLOUR = "#000000"
DPI = 110


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    pyplot().close(fig)
    return path


def regime_label(r: str) -> str:
    """A regime's name as shown: ``non_interference -> non-interference``."""
    return r.replace("_", "-")


def wrap(text: str, width: int) -> str:
    """``text`` wrapped to ``width`` characters, at most four lines."""
    return "\n".join(textwrap.wrap(text, width)[:4])
