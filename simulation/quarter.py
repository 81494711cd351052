"""What happened in the current quarter: per-firm events and per-region tallies.

Submodels write here; the economy, trust, observer and KPIs read it; at the end of the
quarter the per-firm events go into each firm's 4-quarter memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FIRM_EVENTS = (
    "dealings",
    "demands",
    "paid",
    "refused",
    "reported",
    "offered",  # speed money offered in dealings without a demand
    "offer_paid",  # offers accepted: bribes the firm initiated
    "delay",  # approval delay waited, summed over dealings (in shares of the full delay)
    "extracted",
    "fines",
    "support",
    "cooperation",
    "disputes",
    "rule_bending",
    "output",
    "ppp_income",
    "capture_income",
    "reneged_on",
    "detected",
    "experience",
    "ppp_outlay",
    "consulted",
)
REGION_TALLIES = (
    "dealings",
    "demands",
    "paid",
    "offers_paid",
    "delay",
    "caught",
    "bribe_income",
    "tenders",
    "ppp_started",
    "ppp_private_investment",
    "ppp_construction_spending",
    "ppp_offbudget",
    "ppp_jobs",
    "fixed_investment",
    "exits",
)


@dataclass
class QuarterLog:
    """This quarter's events per firm and tallies per region (written by the submodels)."""

    n_firms: int
    n_regions: int
    firm: dict[str, np.ndarray] = field(default_factory=dict)
    region: dict[str, np.ndarray] = field(default_factory=dict)
    tenders: list[tuple[int, int]] = field(default_factory=list)  # (region, sector)
    potential_output: np.ndarray | None = None  # A K^alpha before this quarter's shocks
    exited: np.ndarray | None = None  # rows of the firms that exited this quarter
    entered: np.ndarray | None = None  # rows of the firms that entered at its end
    compaction: np.ndarray | None = None  # old row -> new row, when exited rows were dropped

    def __post_init__(self):
        self.firm = {name: np.zeros(self.n_firms) for name in FIRM_EVENTS}
        self.region = {name: np.zeros(self.n_regions) for name in REGION_TALLIES}
