"""The layering of the package holds (see ``tests/architecture.py``), and its check can fail."""

from __future__ import annotations

import architecture


def test_the_package_respects_its_layers_and_has_no_import_cycle():
    problems = architecture.violations(architecture.import_graph())
    assert not problems, "\n".join(problems)


def test_every_module_is_in_a_layer():
    for module in architecture.import_graph().nodes:
        architecture.layer_of(module)


def test_a_submodel_importing_another_is_caught():
    graph = architecture.import_graph()
    assert graph.has_node("simulation.submodels.plan") and graph.has_node("simulation.submodels.ppp")
    graph.add_edge("simulation.submodels.plan", "simulation.submodels.ppp")
    problems = architecture.violations(graph)
    assert any("submodel simulation.submodels.plan imports submodel simulation.submodels.ppp" in p for p in problems)


def test_an_upward_import_and_a_cycle_are_caught():
    graph = architecture.import_graph()
    graph.add_edge("simulation.world", "simulation.model")
    problems = architecture.violations(graph)
    assert any("simulation.world (state) imports simulation.model (model)" in p for p in problems)
    assert any(p.startswith("import cycle") for p in problems)


def test_the_real_graph_has_the_edges_the_check_relies_on():
    # the parser sees relative imports, also inside functions: the model imports the schedule,
    # which imports every submodel, and the schedule reaches the world only through them
    graph = architecture.import_graph()
    assert graph.has_edge("simulation.model", "simulation.schedule")
    assert graph.has_edge("simulation.schedule", "simulation.submodels.dealings")
    assert graph.has_edge("simulation.submodels.dealings", "simulation.formulas")
    assert graph.has_edge("simulation.parameters", "simulation.regions")  # a lazy import inside resolve()


def test_an_upward_import_between_the_new_layers_is_caught():
    # the engine below the studies and the analysis, the calibration below the report, the observer
    # below everything that reads results: each injected import up a layer is named
    graph = architecture.import_graph()
    injected = [
        ("simulation.runs.evaluator", "simulation.studies.base", "runs", "studies"),
        ("simulation.runs.sweep", "simulation.analysis.analysis", "runs", "analysis"),
        ("simulation.studies.table1", "simulation.calibration.likelihood", "studies", "calibration"),
        ("simulation.calibration.run", "simulation.report.compare", "calibration", "report"),
        ("simulation.observe.kpi", "simulation.cli.common", "state", "cli"),
    ]
    for a, b, la, lb in injected:
        assert graph.has_node(a) and graph.has_node(b), (a, b)
        g = graph.copy()
        g.add_edge(a, b)
        problems = architecture.violations(g)
        assert any(f"{a} ({la}) imports {b} ({lb}), a layer above it" in p for p in problems), (a, b)
        assert not architecture.violations(graph)  # the real graph stays clean
