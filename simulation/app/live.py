"""Figures drawn once and refilled each quarter (issue 26: a Step's time went to matplotlib).

Before, every Step built each figure anew and Solara's ``FigureMatplotlib`` rendered it with a
new renderer: axes, ticks and every text measured again, each time. A :class:`Live` figure is
built once per run (its axes, titles, labels, legends: ``setup``); each quarter only its data
artists (lines, bands, bars, shading, labels in the plot) are removed and drawn again
(``fill``), and the same Agg canvas renders it, so that matplotlib's caches of text metrics
(keyed on the renderer) hold across quarters. The PNG is encoded by Pillow at a low compression.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

#: Resolution of the pages' figures (dots per inch).
DPI = 80


def clear_data(fig: Figure) -> None:
    """Remove the data artists of every axes (lines, collections, patches, texts); keep axes,
    ticks, titles, labels and legends."""
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()


def png(fig: Figure, canvas: FigureCanvasAgg | None = None) -> bytes:
    """The figure as PNG bytes, rendered on ``canvas`` (a new one if not given)."""
    if canvas is None:
        fig.set_dpi(DPI)
        canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


class Live:
    """A figure built by ``setup(target)`` and refilled by ``fill(fig, target)``."""

    def __init__(self, setup: Callable[[Any], Figure], fill: Callable[[Figure, Any], None]):
        self.setup, self.fill = setup, fill
        self.fig: Figure | None = None
        self.canvas: FigureCanvasAgg | None = None

    def figure(self, target) -> Figure:
        """The figure filled for ``target`` now."""
        if self.fig is None:
            self.fig = self.setup(target)
            self.fig.set_dpi(DPI)
            self.canvas = FigureCanvasAgg(self.fig)
        else:
            clear_data(self.fig)
        self.fill(self.fig, target)
        return self.fig

    def png(self, target) -> bytes:
        """The figure filled for ``target`` now, as PNG bytes."""
        fig = self.figure(target)
        return png(fig, self.canvas)


def once(setup: Callable[[Any], Figure], fill: Callable[[Figure, Any], None], target) -> Figure:
    """A figure built and filled once (for a one-off use: the benchmark, a test, a saved figure)."""
    fig = setup(target)
    fill(fig, target)
    return fig
