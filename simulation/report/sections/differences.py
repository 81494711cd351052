"""3. Paired differences, symbiotic − partnership, of the end-of-run outcomes on the same seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_diff, fmt_value, para
from ..figures import pyplot, save

ANCHOR = "differences"
TITLE = "Paired differences: symbiotic − partnership"


def paired_forest(diffs: pd.DataFrame, path, subtitle: str):
    """Forest plot of symbiotic - partnership: shares in percentage points (left), other
    outcomes as % of the partnership mean (right); 95% t-intervals over paired seeds."""
    plt = pyplot()
    shares = diffs[diffs["unit"] == "pp"]
    others = diffs[diffs["unit"] != "pp"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.45 * max(len(shares), len(others)) + 2.2))
    for ax, frame, scale, xlabel in (
        (axes[0], shares, 100.0, "symbiotic − partnership (percentage points)"),
        (axes[1], others, None, "symbiotic − partnership (% of the partnership mean)"),
    ):
        y = np.arange(len(frame))[::-1]
        if scale is None:
            base = frame["partnership"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(base != 0, 100.0 / np.abs(base), np.nan)
        else:
            f = np.full(len(frame), scale)
        mean = frame["difference"].to_numpy() * f
        lo = frame["ci_low"].to_numpy() * f
        hi = frame["ci_high"].to_numpy() * f
        colours = np.where(frame["significant"].to_numpy(), "#D55E00", "#999999")
        for yi, m, a, b, c in zip(y, mean, lo, hi, colours):
            ax.plot([a, b], [yi, yi], color=c, lw=2)
            ax.plot([m], [yi], "o", color=c, ms=6)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(
            y, [f"{lab} [{u}]" if u != "pp" else lab for lab, u in zip(frame["label"], frame["unit"])], fontsize=8.5
        )
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.lines import Line2D

    fig.legend(
        handles=[
            Line2D([], [], color="#D55E00", marker="o", label="95% interval excludes 0"),
            Line2D([], [], color="#999999", marker="o", label="95% interval includes 0"),
        ],
        loc="lower center",
        ncol=2,
        bbox_to_anchor=(0.5, -0.05),
    )
    fig.suptitle(
        "Paired differences, symbiotic − partnership, end of run (mean of the last 4 quarters), "
        "95% t-interval over seeds\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``paired_differences.png``."""
    path = paired_forest(ctx.tables["differences"], ctx.out_dir / "paired_differences.png", ctx.sub_paired)
    return {"forest": Figure(path, "Paired differences with 95% intervals (orange: interval excludes 0)")}


def table(d: pd.DataFrame) -> Table:
    """The paired-differences table as shown: shares in percent, differences in pp."""
    return Table(
        pd.DataFrame(
            {
                "outcome": d["label"],
                "unit": d["unit"].replace("pp", "share"),
                "partnership": [fmt_value(v, u) for v, u in zip(d["partnership"], d["unit"])],
                "symbiotic": [fmt_value(v, u) for v, u in zip(d["symbiotic"], d["unit"])],
                "difference": [fmt_diff(v, u) for v, u in zip(d["difference"], d["unit"])],
                "95% interval": [
                    f"{fmt_diff(a, u)} to {fmt_diff(b, u)}" for a, b, u in zip(d["ci_low"], d["ci_high"], d["unit"])
                ],
                "seeds": d["n"],
            }
        ),
        left=2,
    )


def build(ctx: ReportContext) -> SectionContent:
    """How the differences are computed, the forest plot, the table."""
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                "Per seed, the end-of-run outcome (mean of the last four quarters) under the symbiotic model (s = 1) "
                "minus the same under partnership (s = 0), on the same seed and with the same Table 4 levers, so the "
                "difference is that of s alone; mean and 95% t-interval over seeds. Per-seed values: ",
                Code("per_seed.csv"),
                ".",
            ),
            ctx.figures[ANCHOR]["forest"],
            table(ctx.tables["differences"]),
        ],
    )
