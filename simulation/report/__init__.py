"""The main job: the partnership and the symbiotic governance model compared, as one report.

    from simulation.report import load_compare, run_compare

    config = load_compare(quick=True)             # experiments/partnership_vs_symbiotic.toml
    result = run_compare(config, "results/pvs")   # -> results/pvs/report.html, figures, tables

Modules: ``config`` (the compare file), ``runs`` (planning and running the paired runs on a
backend), ``stats`` (result tables), ``sections`` (one module per section of the page, in the
order of ``sections.SECTIONS``: each draws its figures and returns its content), ``content``
(what sections are made of and read), ``figures`` (shared plotting helpers), ``html`` (the
self-contained page from the Jinja2 templates in ``templates/``, autoescaped), ``compare`` (the
whole job, written atomically), ``cli`` (``statebiz compare``).
"""

_EXPORTS = {"load_compare": "config", "shrink": "config", "run_compare": "compare", "CompareResult": "compare"}
__all__ = list(_EXPORTS)


def __getattr__(name):  # imported lazily, so `statebiz --help` stays fast
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
