"""The machine class and the portable mode (``simulation.machine``), and the model's arithmetic
free of BLAS, whose kernels differ between CPU generations."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import machine

REPO = Path(__file__).resolve().parents[2]

SMALL_RUN = (
    "import json, simulation\n"
    "from simulation.machine import fingerprint\n"
    "from simulation.model import StateBusinessModel\n"
    "m = StateBusinessModel(rng=4, regions='turkestan', firms=600, residents_per_region=200, burn_in=3, steps=4)\n"
    "m.run()\n"
    "out = {k: float(v).hex() for k, v in m.outcomes().items()}\n"
    "print(json.dumps({'machine': fingerprint(), 'outcomes': out}))\n"
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "NUMBA_CPU_NAME")}
    clean.pop(machine.PORTABLE_ENV, None)
    return subprocess.run(
        [sys.executable, "-c", code], env=clean | env, cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_the_fingerprint_names_the_class_and_what_it_is_read_from():
    fp = machine.fingerprint()
    for key in ("machine_class", "arch", "simd", "simd_targets", "numba_cpu", "python", "numpy", "numba", "blas"):
        assert key in fp, key
    assert fp["simd"].lower().replace("x86_", "-") in fp["machine_class"] or fp["simd"] == "unknown"
    assert fp["numpy"] in fp["machine_class"] and fp["python"] in fp["machine_class"]
    json.dumps(fp)  # it goes into manifests


def test_portable_mode_caps_numpy_at_v3_and_numba_at_a_generic_cpu():
    if machine.cpu_level() not in ("X86_V3", "X86_V4"):
        pytest.skip("a CPU below x86-64-v3 cannot run at the portable level")
    done = _python(
        "import simulation, json; from simulation.machine import fingerprint; print(json.dumps(fingerprint()))",
        STATEBIZ_PORTABLE="1",
    )
    assert done.returncode == 0, done.stderr
    fp = json.loads(done.stdout)
    assert fp["simd"] == machine.PORTABLE_LEVEL and fp["numba_cpu"] == "generic" and fp["portable"]


def test_portable_mode_refuses_when_numpy_came_first():
    done = _python("import numpy, simulation", STATEBIZ_PORTABLE="1")
    assert done.returncode != 0
    assert "PortableModeError" in done.stderr and "before numpy is imported" in done.stderr


def test_a_portable_run_equals_a_run_on_an_x86_64_v3_cpu_to_the_bit():
    """Portable mode on this machine against the class of an AVX2 machine without AVX-512 (numpy's
    AVX-512 groups switched off, numba for the host CPU): the same bits; and against the host's
    own class, floats within 1e-9 and counts exact."""
    if machine.cpu_level() not in ("X86_V3", "X86_V4"):
        pytest.skip("a CPU below x86-64-v3 cannot run at the portable level")
    portable = _python(SMALL_RUN, STATEBIZ_PORTABLE="1")
    v3 = _python(SMALL_RUN, NPY_DISABLE_CPU_FEATURES=machine.portable_environment()["NPY_DISABLE_CPU_FEATURES"])
    host = _python(SMALL_RUN)
    for done in (portable, v3, host):
        assert done.returncode == 0, done.stderr
    a, b, c = (json.loads(d.stdout) for d in (portable, v3, host))
    assert a["machine"]["machine_class"] == b["machine"]["machine_class"]
    assert a["outcomes"] == b["outcomes"]
    for key, value in c["outcomes"].items():
        x, y = float.fromhex(value), float.fromhex(a["outcomes"][key])
        assert abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1e-12), key


#: Modules whose arithmetic makes results: the model, its submodels and state, the instruments
#: and the calibration. BLAS (``@``, ``dot``, ``tensordot``, ``linalg``, ``polyfit``, ``cov``)
#: picks its kernel by CPU; these use ``formulas.fixed_order_dot`` and closed forms instead.
RESULT_MODULES = [
    p
    for p in (REPO / "simulation").rglob("*.py")
    if p.relative_to(REPO / "simulation").parts[0] not in ("runs", "report", "app", "cli", "analysis", "studies")
]
BLAS_CALLS = {"dot", "matmul", "tensordot", "einsum", "inner", "vdot", "polyfit", "cov", "corrcoef", "lstsq"}


def _blas_uses(source: str, name: str = "") -> list[str]:
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{name}:{node.lineno} @")
        elif isinstance(node, ast.Attribute) and (node.attr in BLAS_CALLS or node.attr == "linalg"):
            found.append(f"{name}:{node.lineno} {node.attr}")
    return found


def test_the_results_arithmetic_uses_no_blas():
    allowed = {"networks.py"}  # scipy.sparse's matrix-vector product: its own loop in row order, no BLAS
    found = [
        use
        for p in RESULT_MODULES
        if p.name not in allowed
        for use in _blas_uses(p.read_text(encoding="utf-8"), p.name)
    ]
    assert not found, f"BLAS in the model's arithmetic (use formulas.fixed_order_dot): {found}"
    for use in ("y = a @ b", "y = np.dot(a, b)", "y = np.linalg.solve(a, b)", "y = np.polyfit(x, y, 1)"):
        assert _blas_uses(use), use  # the check sees each kind


def test_fixed_order_dot_is_a_matrix_product():
    import numpy as np

    from simulation.formulas import fixed_order_dot, least_squares_line

    rng = np.random.default_rng(1)
    a, b = rng.random((5, 3)), rng.random((3, 4))
    assert np.allclose(fixed_order_dot(a, b), np.einsum("ik,kj->ij", a, b), rtol=1e-14)
    v, t = rng.random(3), rng.random((3, 2, 2))
    assert np.allclose(fixed_order_dot(v, t), np.einsum("k,kij->ij", v, t), rtol=1e-14)
    x = rng.random(9)
    slope, intercept = least_squares_line(x, 2.5 * x - 1.0)
    assert slope == pytest.approx(2.5, rel=1e-12) and intercept == pytest.approx(-1.0, rel=1e-12)


def test_a_store_resumed_on_another_machine_class_warns_and_records_both(tmp_path, capsys):
    from simulation.runs.spec import load_experiment
    from tests.cli.test_reliability import experiment, sweep

    spec = load_experiment(experiment(tmp_path, reps=2))
    out = tmp_path / "r"
    assert sweep(spec, out).ok
    manifest = json.loads((out / "manifest.json").read_text())
    here = machine.machine_class()
    assert manifest["machine"]["machine_class"] == here and manifest["machine_classes"] == [here]
    assert "another machine class" not in capsys.readouterr().err
    manifest["sessions"][0]["machine_class"] = "x86_64-v4 py3.12.1 numpy2.5.5 numba0.68.1 [00000000]"
    manifest["machine"]["machine_class"] = "x86_64-v4 py3.12.1 numpy2.5.5 numba0.68.1 [00000000]"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert sweep(spec, out).ok
    err = capsys.readouterr().err
    assert "warning:" in err and "another machine class" in err and "--portable" in err
    after = json.loads((out / "manifest.json").read_text())
    assert after["machine_classes"][-1] == here and len(after["machine_classes"]) == 2


def test_the_portable_flag_reruns_the_command_in_portable_mode(tmp_path):
    if machine.cpu_level() not in ("X86_V3", "X86_V4"):
        pytest.skip("a CPU below x86-64-v3 cannot run at the portable level")
    (tmp_path / "tiny.toml").write_text(
        'name = "tiny"\n[run]\nsteps = 2\nburn_in = 1\n[world]\nregions = "turkestan"\nfirms = 300\n'
        "residents_per_region = 200\n"
    )
    code = (
        "import sys; from simulation.cli import main; "
        f"sys.exit(main(['--portable', 'run', {str(tmp_path / 'tiny.toml')!r}, '--out', {str(tmp_path / 'o')!r}]))"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    recorded = json.loads((tmp_path / "o" / "manifest.json").read_text())["machine"]
    assert recorded["portable"] and recorded["simd"] == machine.PORTABLE_LEVEL


def test_a_dask_cluster_of_several_machine_classes_is_named_in_a_warning(capsys):
    from simulation.runs.evaluator import warn_mixed_machine_classes

    here = machine.machine_class()

    class Client:
        def __init__(self, classes):
            self.classes = classes

        def run(self, fn):
            return {f"tcp://node{i}:1": c for i, c in enumerate(self.classes)}

    assert warn_mixed_machine_classes(Client([here, here])) == [here]
    assert capsys.readouterr().err == ""
    other = "x86_64-v2 py3.12.1 numpy2.5.5 numba0.68.1 [00000000]"
    assert warn_mixed_machine_classes(Client([here, other])) == sorted([here, other])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2 machine class(es)" in err and "STATEBIZ_PORTABLE=1" in err


def test_the_report_says_when_its_validation_ran_on_another_machine_class():
    from types import SimpleNamespace

    from simulation.report.sections.validation import _status

    here = {"machine_class": machine.machine_class()}
    other = {"machine_class": "x86_64-v2 py3.12.1 numpy2.5.5 numba0.68.1 [00000000]"}
    config = SimpleNamespace(validation=SimpleNamespace(posterior=None))
    ctx = SimpleNamespace(config=config, manifest={"machine": here})

    def status(machine_of_validation):
        res = {"manifest": {"calibrated": True, "machine": machine_of_validation}}
        return " ".join(str(p) for p in _status(ctx, res))

    assert "another machine class" in status(other) and other["machine_class"] in status(other)
    assert "another machine class" not in status(here)
