"""Array-backed state of firms and residents: one row per agent, grown by doubling.

Every firm and resident rule runs vectorised over these arrays; the Mesa agents in
``agents.py`` are thin handles onto rows. Rows of exited firms stay (``alive`` False)
until ``FirmTable.compact`` drops them and hands back the old-to-new row map.
"""

from __future__ import annotations

import numpy as np

#: Rolling memory length: the observer and the survey look at the last 4 quarters.
MEMORY = 4

#: Per-quarter events a firm remembers for 4 quarters (the observer's and survey's inputs).
MEMORY_FIELDS = (
    "dealings",  # dealings with officials
    "demands",  # bribe demands received
    "paid",  # demands paid
    "refused",  # demands refused
    "reported",  # demands reported
    "extracted",  # bribes paid + delay and retaliation costs (output units)
    "support",  # support received (output units)
    "cooperation",  # quarters of a performing PPP contract + consultation taken part in
    "disputes",  # PPP disputes the firm is party to
    "rule_bending",  # 1 when the firm held its akimat captured
    "output",  # output Y
    "experience",  # net experience with the authorities: gains - losses (output units)
)

#: Scalar per-firm state.
FIRM_FIELDS: dict[str, type] = {
    "region": np.int32,
    "capital": np.float64,  # K, in units of the initial median firm's capital
    "productivity": np.float64,  # A
    "cohort": np.int8,  # owner's age cohort: 0 <30, 1 30-39, 2 40-49, 3 50+
    "age": np.int32,  # quarters since entry
    "connection": np.float64,  # L in [0,1]: connection to the akimat
    "insider": np.bool_,  # dominant insider firm (symbiotic model)
    "member": np.bool_,  # member of a business association
    "formal": np.bool_,
    "alive": np.bool_,
    "trust": np.float64,  # T in [0,1]
    "satisfaction": np.float64,  # in [-1,1]
    "perceived_detection": np.float64,  # perceived probability that a bribe is detected
    "loss_streak": np.int32,
    "captor": np.bool_,  # holds its akimat captured (bends the rules)
    "strength": np.float64,  # B in [0,1], refreshed each quarter
    "profit": np.float64,
}

#: Owners' age cohorts of the entrepreneurs' sample (paper, Tables 7-9, cohort shares of
#: the 58 entrepreneurs: 20, 18, 11, 9). Used as the owner-age mix of firms.
OWNER_COHORT_SHARES = np.array([20, 18, 11, 9], dtype=float) / 58.0

#: Age composition of the paper's population sample (Table 2: 72, 45, 42, 39 of 198).
RESIDENT_COHORT_SHARES = np.array([72, 45, 42, 39], dtype=float) / 198.0


class FirmTable:
    """Columns of firm state with spare capacity; ``n`` rows are in use."""

    def __init__(self, capacity: int):
        self.n = 0
        self.capacity = max(capacity, 16)
        for name, dtype in FIRM_FIELDS.items():
            setattr(self, name, np.zeros(self.capacity, dtype=dtype))
        for name in MEMORY_FIELDS:
            setattr(self, "mem_" + name, np.zeros((MEMORY, self.capacity)))

    def _grow(self, need: int) -> None:
        new_cap = max(need, 2 * self.capacity)
        for name in FIRM_FIELDS:
            old = getattr(self, name)
            arr = np.zeros(new_cap, dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)
        for name in MEMORY_FIELDS:
            old = getattr(self, "mem_" + name)
            arr = np.zeros((MEMORY, new_cap))
            arr[:, : self.n] = old[:, : self.n]
            setattr(self, "mem_" + name, arr)
        self.capacity = new_cap

    def add(self, count: int, **values: np.ndarray) -> np.ndarray:
        """Append ``count`` rows (fields not given are zero) and return their row indices."""
        if self.n + count > self.capacity:
            self._grow(self.n + count)
        rows = np.arange(self.n, self.n + count)
        for name in FIRM_FIELDS:
            col = getattr(self, name)
            col[rows] = values.pop(name, 0)
        if values:
            raise KeyError(f"unknown firm fields: {sorted(values)}")
        for name in MEMORY_FIELDS:
            getattr(self, "mem_" + name)[:, rows] = 0.0
        self.n += count
        return rows

    def view(self, name: str) -> np.ndarray:
        """The in-use part of a column (a view; writes go to the table)."""
        return getattr(self, name)[: self.n]

    def memory(self, name: str) -> np.ndarray:
        """The in-use part of a memory field, shape (4, n)."""
        return getattr(self, "mem_" + name)[:, : self.n]

    def last_year(self, name: str) -> np.ndarray:
        """Sum of a memory field over the last 4 quarters."""
        return self.memory(name).sum(axis=0)

    def compact(self) -> np.ndarray:
        """Drop exited firms' rows. Returns old row -> new row (-1 for dropped rows)."""
        keep = self.alive[: self.n].copy()
        mapping = np.full(self.n, -1, dtype=np.int64)
        new_n = int(keep.sum())
        mapping[keep] = np.arange(new_n)
        for name in FIRM_FIELDS:
            col = getattr(self, name)
            col[:new_n] = col[: self.n][keep]
        for name in MEMORY_FIELDS:
            mem = getattr(self, "mem_" + name)
            mem[:, :new_n] = mem[:, : self.n][:, keep]
        self.n = new_n
        return mapping


class ResidentTable:
    """Columns of resident state (fixed population: residents do not enter or leave)."""

    def __init__(self, region: np.ndarray, cohort: np.ndarray, taste: np.ndarray, utility_taste: np.ndarray):
        self.n = len(region)
        self.region = region.astype(np.int32)
        self.cohort = cohort.astype(np.int8)
        self.taste = taste  # persistent individual offset of satisfaction with the authorities
        self.utility_taste = utility_taste  # shape (n, 4): persistent offsets per utility
        self.authority = np.zeros(self.n)  # latent satisfaction with the authorities
        self.utilities = np.zeros((self.n, 4))  # latent satisfaction per utility
