"""The package's layering, read from the imports of its source files.

Layers, from the top (a module may import modules of its own layer or of layers below):

    cli          the command line (simulation.cli: a table of commands), and the interactive app
    report       the partnership-vs-symbiotic report
    calibration  the calibration to the survey (tempered SMC)
    studies      table1, reachability, dynamics, validation: the Study shape on the evaluator
    analysis     reading a sweep's results: analysis, scenario discovery, robust policies, EMA
    runs         the engine of many runs: experiment files, designs, seeds, the evaluator, the store, sweeps
    instruments  the survey instruments (observe.survey, observe.enterprise_survey) and the runner
    model        the Mesa model, agents, the observer, outcomes and records, schedule, initialisation
    submodels    one module per ODD step; a submodel never imports another
    state        the world, shared formulas, KPIs, answer rules, parameters, scenarios, regions, ties
    io           file formats, staged writes, provenance, the machine class

``tests/test_architecture.py`` checks the real import graph against these rules and shows
that the check fails on an injected violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = "simulation"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "cli",
        (
            "simulation.cli",
            "simulation.__main__",
            "simulation.app",
        ),
    ),
    ("report", ("simulation.report",)),
    ("calibration", ("simulation.calibration",)),
    ("studies", ("simulation.studies",)),
    ("analysis", ("simulation.analysis",)),
    ("runs", ("simulation.runs",)),
    ("instruments", ("simulation.observe.survey", "simulation.observe.enterprise_survey", "simulation.runner")),
    (
        "model",
        (
            "simulation.model",
            "simulation.agents",
            "simulation.observe.observer",
            "simulation.observe.outcomes",
            "simulation.observe.records",
            "simulation.schedule",
            "simulation.initialisation",
            "simulation",
        ),
    ),
    ("submodels", ("simulation.submodels",)),
    (
        "state",
        (
            "simulation.world",
            "simulation.formulas",
            "simulation.observe.kpi",
            "simulation.observe.answers",
            "simulation.parameters",
            "simulation.scenario",
            "simulation.posterior",
            "simulation.regions",
            "simulation.networks",
            "simulation.kernels",
            "simulation.quarter",
            "simulation.data",
        ),
    ),
    ("io", ("simulation.io", "simulation.provenance", "simulation.machine")),
)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """Absolute names of the package modules an ``ImportFrom`` brings in."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = [target] if node.module else []
    names += [f"{target}.{alias.name}" for alias in node.names]
    return names


def import_graph() -> nx.DiGraph:
    """Module -> imported package modules, from every source file (imports inside functions too)."""
    files = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p): p for p in files}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(module, path.name == "__init__.py", node)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in modules and target != module:
                    graph.add_edge(module, target)
    return graph


def layer_of(module: str) -> int:
    """Index of the module's layer (0 is the top); the longest matching prefix decides."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise KeyError(f"{module} is in no layer: add it to tests/architecture.py")
    return best


def violations(graph: nx.DiGraph) -> list[str]:
    """Every import that breaks the layering, every submodel importing another, and every cycle."""
    out = []
    for a, b in graph.edges:
        if b == PACKAGE or a == PACKAGE:  # the package's own __init__ re-exports the public API
            continue
        la, lb = layer_of(a), layer_of(b)
        if lb < la:
            out.append(f"{a} ({LAYERS[la][0]}) imports {b} ({LAYERS[lb][0]}), a layer above it")
        sub = "simulation.submodels."
        if a.startswith(sub) and b.startswith(sub):
            out.append(f"submodel {a} imports submodel {b}")
    for cycle in nx.simple_cycles(graph):
        if PACKAGE not in cycle:
            out.append("import cycle: " + " -> ".join(cycle + cycle[:1]))
    return out
