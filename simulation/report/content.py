"""What a report section is made of, and what it is made from.

A section's content is a list of *blocks* (paragraphs, bullet lists, figures, tables,
key-value rows, preformatted text) whose text is plain: the templates escape every string,
so a block never carries HTML. Inline markup is structured instead: a paragraph is a list
of pieces, each a plain string or a :class:`Code`, :class:`Sub` or :class:`Bold`.

:class:`ReportContext` is what every section reads: the compare file, the result tables,
the raw runs, and (filled in by :func:`simulation.report.compare.run_compare` before the
page is rendered) the summary statements, the manifest and the list of files.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..io import model_changes_since, model_version
from ..provenance import accepted_versions
from ..runs.spec import REPO_ROOT
from .config import CompareConfig

# ------------------------------------------------------------------------------ inline pieces


@dataclass(frozen=True)
class Code:
    """Inline code (``<code>``), e.g. a file name."""

    text: str
    style: ClassVar[str] = "code"


@dataclass(frozen=True)
class Sub:
    """A subscript (``<sub>``)."""

    text: str
    style: ClassVar[str] = "sub"


@dataclass(frozen=True)
class Bold:
    """Bold text (``<b>``)."""

    text: str
    style: ClassVar[str] = "b"


Piece = str | Code | Sub | Bold


def _pieces(parts: tuple[Any, ...]) -> list[Piece]:
    return [p if isinstance(p, (Code, Sub, Bold)) else str(p) for p in parts]


# ------------------------------------------------------------------------------------ blocks


@dataclass
class Para:
    """A paragraph of pieces; ``cls`` is its CSS class ("meta": small print, "warning")."""

    parts: list[Piece]
    cls: str = ""
    kind: ClassVar[str] = "para"


def para(*parts: Any, cls: str = "") -> Para:
    """A paragraph: ``para("See ", Code("per_seed.csv"), ".")``."""
    return Para(_pieces(parts), cls)


@dataclass
class Bullets:
    """A bullet list; every item is a list of pieces."""

    items: list[list[Piece]]
    cls: str = ""
    kind: ClassVar[str] = "bullets"


@dataclass
class Figure:
    """A PNG figure written by a section, embedded in the page as base64."""

    path: Path
    caption: str
    cls: str = ""
    kind: ClassVar[str] = "figure"

    @property
    def name(self) -> str:
        """The file name shown under the figure."""
        return self.path.name

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI (the page loads nothing from outside)."""
        return "data:image/png;base64," + base64.b64encode(self.path.read_bytes()).decode("ascii")


@dataclass
class Table:
    """A table rendered from a DataFrame; the first ``left`` columns are left-aligned."""

    frame: pd.DataFrame
    left: int = 1
    kind: ClassVar[str] = "table"

    @property
    def columns(self) -> list[str]:
        """The header cells as text."""
        return [str(c) for c in self.frame.columns]

    @property
    def rows(self) -> list[list[str]]:
        """The body cells as text, row by row."""
        return [[str(v) for v in r] for _, r in self.frame.iterrows()]


@dataclass
class Rows:
    """A two-column table of a heading and a value made of pieces (the methods table)."""

    rows: list[tuple[str, list[Piece]]]
    kind: ClassVar[str] = "rows"


def row(key: str, *parts: Any) -> tuple[str, list[Piece]]:
    """One row of :class:`Rows`."""
    return key, _pieces(parts)


@dataclass
class Pre:
    """Preformatted text (``<pre>``)."""

    text: str
    kind: ClassVar[str] = "pre"


Block = Para | Bullets | Figure | Table | Rows | Pre


@dataclass
class SectionContent:
    """What one section puts on the page: its ``anchor`` (HTML id), ``title`` and blocks in page
    order. ``number`` is set from the section's place in the list (None: not numbered); ``nav``
    is its label in the table of contents (default: the heading up to ':')."""

    anchor: str
    title: str
    blocks: list[Block]
    nav_label: str = ""
    number: int | None = None

    @property
    def heading(self) -> str:
        """The title with its number, e.g. '3. Paired differences: ...'."""
        return self.title if self.number is None else f"{self.number}. {self.title}"

    @property
    def nav(self) -> str:
        """The label in the table of contents."""
        return self.nav_label or self.heading.split(":")[0]

    @property
    def figures(self) -> list[Figure]:
        """The section's figures."""
        return [b for b in self.blocks if isinstance(b, Figure)]

    @property
    def tables(self) -> list[Table]:
        """The section's tables."""
        return [b for b in self.blocks if isinstance(b, Table)]


# ------------------------------------------------------------------------------- formatting


def pct(x: float) -> str:
    """A share as a percentage, ``0.123 -> '12.3%'``."""
    return f"{100 * x:.1f}%"


def pp(x: float) -> str:
    """A difference of shares in percentage points, ``0.05 -> '+5.0 pp'``."""
    return f"{100 * x:+.1f} pp"


def num(x: float) -> str:
    """A number with about three significant digits ('n/a' if not finite)."""
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def signed(x: float) -> str:
    """:func:`num` with a sign."""
    s = num(x)
    return s if s.startswith("-") or s == "n/a" else "+" + s


def fmt_value(v: float, unit: str) -> str:
    """A value of a result table: percent for shares (unit 'pp'), else a number."""
    return pct(v) if unit == "pp" else num(v)


def fmt_diff(v: float, unit: str) -> str:
    """A difference: percentage points for shares, else a signed number."""
    return pp(v) if unit == "pp" else signed(v)


def rel(path: str | Path) -> str:
    """``path`` relative to the repository if it lies inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def sizes(config: CompareConfig, part) -> str:
    """A part's run size in words: firms, residents, quarters after burn-in."""
    p = config.params(part, governance="partnership")
    return (
        f"{p['firms']:,} firms, {p['residents_per_region']:,} residents, "
        f"{part.quarters} quarters after {p['burn_in']} of burn-in"
    )


# ---------------------------------------------------------------------------------- context


@dataclass
class ReportContext:
    """Everything the sections read. ``tables``: the result tables by name (``per_seed``,
    ``differences``, ``timeseries``, ``table1``, ``survey``, ``levers``); ``runs``: the raw
    results of :func:`simulation.report.runs.execute`; ``out_dir``: where figures go.
    ``statements``, ``manifest``, ``files`` and ``wall`` are set before the page is rendered;
    ``figures`` holds what each section's ``draw`` returned, by anchor; ``numbers`` every
    numbered section's number, by anchor."""

    config: CompareConfig
    out_dir: Path
    tables: dict[str, pd.DataFrame]
    runs: dict[str, Any]
    run_wall: float = 0.0
    statements: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    wall: float = 0.0
    figures: dict[str, dict[str, Figure]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def section_ref(self, *anchors: str) -> str:
        """How the text names other sections by number: 'section 1', 'sections 2–4' or
        'sections 1, 5' (sections not on the page are left out; '' if none is)."""
        n = sorted(self.numbers[a] for a in anchors if a in self.numbers)
        if not n:
            return ""
        if len(n) == 1:
            return f"section {n[0]}"
        if n == list(range(n[0], n[-1] + 1)):
            return f"sections {n[0]}–{n[-1]}"
        return "sections " + ", ".join(map(str, n))

    @property
    def where(self) -> str:
        """The base scenario file and whether it is calibrated."""
        status = "calibrated" if self.config.calibrated else "NOT calibrated"
        return f"{rel(self.config.scenario_path)} ({status})"

    @property
    def quick(self) -> str:
        """', --quick size' at --quick size, else ''."""
        return ", --quick size" if self.config.quick else ""

    @property
    def grid(self) -> str:
        """The regime map's P × B grid in words."""
        g = self.config.regime_map.grid
        return (
            f"P ∈ {{{', '.join(f'{v:g}' for v in g['power_strength'])}}} × "
            f"B ∈ {{{', '.join(f'{v:g}' for v in g['business_strength'])}}}"
        )

    @property
    def posterior_name(self) -> str:
        """The posterior file named in the compare file (as the report shows it)."""
        p = self.config.posterior_path
        return rel(p) if p is not None else "docs/calibration/posterior.csv (not named in the compare file)"

    def draws_seeds(self, part) -> str:
        """'16 posterior draws × 2 seeds', or '2 seeds (no posterior: parameters fixed)'."""
        if self.config.posterior is None:
            return f"{self.config.n_seeds(part)} seeds (no posterior: parameters fixed)"
        d = self.config.n_draws(part)
        return f"{d} posterior draw{'s' if d != 1 else ''} × {part.replications} seeds"

    @property
    def sub_paired(self) -> str:
        """Figure subtitle of the paired runs."""
        c = self.config
        return f"{self.where}; {sizes(c, c.paired)}; {self.draws_seeds(c.paired)}{self.quick}"

    @property
    def sub_regime(self) -> str:
        """Figure subtitle of the regime map's runs."""
        rm = self.config.regime_map
        return f"{self.where}; grid {self.grid}; {sizes(self.config, rm)}; {rm.replications} seeds per cell{self.quick}"

    @property
    def sub_levers(self) -> str:
        """Figure subtitle of the lever runs."""
        c = self.config
        return f"{self.where}; {sizes(c, c.levers)}; {self.draws_seeds(c.levers)}{self.quick}"

    @property
    def title(self) -> str:
        """The page's title."""
        if not self.config.calibrated:
            return "Partnership vs symbiotic governance: Turkestan (model not calibrated yet)"
        stale = calibration_stale(self.config) is not None
        return "Partnership vs symbiotic governance: Turkestan, " + (
            "at an earlier model's calibration (NOT RECALIBRATED)" if stale else "calibrated"
        )

    @property
    def subtitle(self) -> str:
        """The line under the title: the compare file's description and when the page was made."""
        return f"{self.config.description}. Generated {time.strftime('%Y-%m-%d %H:%M %Z')}" + (
            " at --quick size" if self.config.quick else ""
        )


def record_changes(record: dict) -> list[str] | None:
    """The model's files changed since a calibration record was made: [] when the model is the same (its
    model version equals today's, or git finds no model file changed since its commit), None when neither
    can tell. A record's model version was hashed over the files of its day, so when git can tell, git
    decides: a change of what the version hashes (such as leaving the studies' data out) is not a change
    of the model. A record whose ``equivalent_model_versions`` hold today's version (its fingerprint runs
    give the same numbers today: ``calibration.equivalence``) is on the same model too."""
    version, commit = record.get("model_version"), str(record.get("git_commit", ""))
    if version and model_version() in accepted_versions(record):
        return []
    # a record made with uncommitted edits: git does not know them, its model version does
    changed = None if (version and commit.endswith("+dirty")) else model_changes_since(commit)
    if changed is None and version:
        return ["the model's source"]
    return changed


def read_record(path: Path) -> dict | None:
    """A calibration's ``manifest.json`` as a dict, or None (missing, unreadable, not an object)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


#: Fits that are not the shipped record (measurements at reduced settings, docs/calibration/MEASURED.md),
#: shown beside a shipped record fitted to an earlier model when one of them is on the current model.
CURRENT_MODEL_FITS = (
    REPO_ROOT / "docs" / "calibration" / "measured" / "reduced_fit_k4",
    REPO_ROOT / "docs" / "calibration" / "measured" / "reduced_fit",
)


def current_model_fit(folders=CURRENT_MODEL_FITS) -> tuple[Path, dict] | None:
    """The first of ``folders`` whose calibration record was made on the current model (no model file changed
    since, :func:`record_changes`), with its record; None when there is none."""
    for folder in folders:
        record = read_record(Path(folder) / "manifest.json")
        if record is not None and record_changes(record) == []:
            return Path(folder), record
    return None


def calibration_stale(config: CompareConfig) -> str | None:
    """A warning when the posterior was fitted on an earlier model (:func:`record_changes` of its record);
    None when they agree or cannot be told."""
    posterior = getattr(config, "posterior", None)
    if posterior is None:
        return None
    record = read_record(Path(posterior.path).parent / "manifest.json")
    if record is None:
        return None
    changed = record_changes(record)
    if not changed:
        return None
    changed = sorted(changed, key=lambda f: (not f.startswith("submodels/"), not f.startswith("data/"), f))
    what = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
    return (
        f"NOT RECALIBRATED: the posterior ({rel(posterior.path)}) was fitted to an earlier version of the model "
        f"(commit {str(record.get('git_commit', '?'))[:12]}); the model has changed since ({what}). Its parameters "
        "are the old model's best fit, not this one's: read the numbers below as what the current mechanisms do "
        "at the old fit, not as estimates for Turkestan, until `statebiz calibrate` is run again."
        + (
            " A reduced fit on the current model is summarised in the calibration section."
            if current_model_fit() is not None
            else ""
        )
    )
