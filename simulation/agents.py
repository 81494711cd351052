"""Akimat, Firm and Resident: thin Mesa agents over the model's state arrays.

The agents are the model's vocabulary (they live in ``model.agents`` and work with
``AgentSet``, ``DataCollector`` and Mesa's visualisation), while every rule runs
vectorised in ``simulation.submodels`` over the arrays that the agents point into.
Reading an attribute of an agent reads its row; no agent holds state of its own.

Akimats and residents (a fixed population) are ordinary registered Mesa agents. Firms enter
and exit by the thousand each quarter, so they are not registered one by one: a ``Firm``
handle is made only when someone asks for it (``model.agents``, ``model.agents_by_type``,
``model.firm_agent(row)``), then kept, so that the same firm is the same object until it
exits. A firm that nobody looked at costs nothing (no ``Agent.__init__``, no registration,
no signal), and entry and exit touch only the handles already made.
"""

from __future__ import annotations

import mesa

from .formulas import life_stage

SIZE_CLASSES = ("micro", "small", "medium", "large")
COHORTS = ("<30", "30-39", "40-49", "50+")
LIFE_STAGES = ("start-up", "growth", "mature")


class Akimat(mesa.Agent):
    """The regional government of one region (oblast or city of republican significance)."""

    def __init__(self, model: mesa.Model, region: int, region_id: str, name: str):
        super().__init__(model)
        self.region = region
        self.region_id = region_id
        self.name = name

    @property
    def power(self) -> float:
        """Power strength P in [0,1]."""
        return float(self.model.world.akimats.power[self.region])

    @property
    def corrupt_share(self) -> float:
        """Share c of corrupt officials in [0,1]."""
        return float(self.model.world.akimats.corrupt_share[self.region])

    @property
    def budget(self) -> float:
        """The akimat's budget this quarter (capital units)."""
        return float(self.model.world.akimats.budget[self.region])

    @property
    def utility_quality(self) -> dict[str, float]:
        """Quality in [0,1] of heat, water, power and gas supply."""
        q = self.model.world.akimats.utility_quality[self.region]
        return dict(zip(("heat", "water", "power", "gas"), map(float, q)))

    @property
    def governance(self) -> str:
        """The governance model of the run."""
        return self.model.params["governance"]

    @property
    def captured(self) -> bool:
        """True while a firm holds this akimat captured."""
        return bool(self.model.captured_regions()[self.region] > 0)

    @property
    def score(self) -> float:
        """The latest Figure 2 evaluation score in [0,1]."""
        return float(self.model.world.akimats.score[self.region])

    @property
    def regime_shares(self) -> dict[str, float]:
        """Economic-weight shares of the six Table 1 regimes among this region's firms."""
        return self.model.observer.regional_shares(self.region)


class Firm(mesa.Agent):
    """A firm: a handle onto row ``row`` of ``model.firms``.

    Made on demand by the model (``model.firm_agent(row)``) and not registered with Mesa one by
    one: its ``unique_id`` is the model's id base for firms plus the firm's serial number
    (``firms.uid``), unique among the model's agents and the same for the firm's whole life.
    ``row`` follows the firm table's compaction; it is None once the firm has exited.
    """

    def __init__(self, model: mesa.Model, row: int):
        # deliberately not mesa.Agent.__init__: that would register the handle with the model
        self.model = model
        self.row = row
        self.pos = None
        self.unique_id = model.firm_id_base + int(model.world.firms.uid[row])

    def remove(self) -> None:
        """Firms leave through the model's exit rule (economy step), not by removing their handle."""
        raise TypeError("a Firm exits through the model's economy step; its handle cannot be removed")

    def _get(self, name: str):
        return getattr(self.model.world.firms, name)[self.row]

    @property
    def region(self) -> int:
        """Index of the agent's region."""
        return int(self._get("region"))

    @property
    def capital(self) -> float:
        """Capital K (units of the initial median firm's capital)."""
        return float(self._get("capital"))

    @property
    def strength(self) -> float:
        """Business strength B in [0,1] relative to the akimat."""
        return float(self._get("strength"))

    @property
    def trust(self) -> float:
        """Trust T in [0,1] in the akimat."""
        return float(self._get("trust"))

    @property
    def satisfaction(self) -> float:
        """Satisfaction S in [-1,1] with the authorities."""
        return float(self._get("satisfaction"))

    @property
    def formal(self) -> bool:
        """True if the firm pays taxes (not informal)."""
        return bool(self._get("formal"))

    @property
    def insider(self) -> bool:
        """True for a dominant insider firm (symbiotic model)."""
        return bool(self._get("insider"))

    @property
    def cohort(self) -> str:
        """Age cohort: <30, 30-39, 40-49 or 50+."""
        return COHORTS[int(self._get("cohort"))]

    @property
    def size_class(self) -> str:
        """Size class by capital: micro, small, medium or large."""
        return SIZE_CLASSES[int(self.model.world.size_class()[self.row])]

    @property
    def life_stage(self) -> str:
        """Life stage by age: start-up, growth or mature."""
        return LIFE_STAGES[int(life_stage(self._get("age"), self.model.params))]

    @property
    def regime(self) -> str:
        """The Table 1 regime the observer read off this firm's relation with its akimat."""
        return self.model.observer.label_of(self.row)


class Resident(mesa.Agent):
    """A resident: a handle onto row ``row`` of ``model.residents``."""

    def __init__(self, model: mesa.Model, row: int):
        super().__init__(model)
        self.row = row

    @property
    def region(self) -> int:
        """Index of the agent's region."""
        return int(self.model.world.residents.region[self.row])

    @property
    def cohort(self) -> str:
        """Age cohort: <30, 30-39, 40-49 or 50+."""
        return COHORTS[int(self.model.world.residents.cohort[self.row])]

    @property
    def authority_satisfaction(self) -> float:
        """Latent satisfaction with the authorities."""
        return float(self.model.world.residents.authority[self.row])
