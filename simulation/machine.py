"""The machine class a run is computed on, and the portable mode that makes runs bit-identical
across x86-64 machines.

Why results can differ between machines: numpy picks its SIMD loops at import from the CPU's
features (on an AVX-512 CPU its float64 ``exp``, ``log`` and ``power`` are AVX-512 versions that
differ from the C library's in the last bit), and numba compiles for the host CPU. The model's
arithmetic uses no BLAS (``formulas.fixed_order_dot``), so the BLAS kernel OpenBLAS picks for
the CPU does not enter results; it is recorded all the same.

**Machine class**: what decides a run's last bits: numpy's SIMD level in effect and the
versions of Python, numpy and numba. Two machines of one class give the
same numbers to the bit for the same seed and lock; :func:`fingerprint` records it, with the
BLAS kernel and the CPU's own highest level for information, in every manifest.

**Portable mode** (``STATEBIZ_PORTABLE=1``, or ``statebiz --portable``): numpy's dispatch is
capped at x86-64-v3 (AVX2 and FMA; the AVX-512 groups switched off with
``NPY_DISABLE_CPU_FEATURES``) and numba compiles for a generic x86-64. Every x86-64-v3 machine
or newer (Intel since Haswell, AMD since Excavator and Zen) is then of one class. It must be in
the environment before numpy is imported: ``import simulation`` applies it when
``STATEBIZ_PORTABLE`` is set; the ``--portable`` flag re-executes the command with it set; child
processes (local processes, a local Dask cluster) inherit it. This module imports numpy only
inside functions, so that the package can apply the mode first.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import sys
from importlib import metadata
from typing import Any

#: The environment variable that asks for the portable mode ("1", "true" or "yes").
PORTABLE_ENV = "STATEBIZ_PORTABLE"
#: The SIMD level the portable mode caps numpy at.
PORTABLE_LEVEL = "X86_V3"
#: numba's target CPU in portable mode (LLVM's baseline x86-64).
PORTABLE_NUMBA_CPU = "generic"


class PortableModeError(RuntimeError):
    """The portable mode was asked for after numpy had been imported without it."""


def portable_requested(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment asks for the portable mode."""
    value = (os.environ if environ is None else environ).get(PORTABLE_ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def _numpy_groups_above_v3() -> str:
    """numpy's names of its dispatch targets above x86-64-v3, for the installed numpy (read from
    its metadata, without importing it). numpy 2.4 grouped the AVX-512 targets into X86_V4 and
    two further groups; earlier versions name each AVX-512 target."""
    try:
        major, minor = (int(x) for x in metadata.version("numpy").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        major, minor = 2, 4
    if (major, minor) >= (2, 4):
        return "X86_V4 AVX512_ICL AVX512_SPR"
    return "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"


def portable_environment() -> dict[str, str]:
    """The environment variables of the portable mode (to set before numpy is imported, or to
    give to workers started by hand, e.g. ``dask worker`` or ``mpiexec -x``)."""
    return {
        PORTABLE_ENV: "1",
        "NPY_DISABLE_CPU_FEATURES": _numpy_groups_above_v3(),
        "NUMBA_CPU_NAME": PORTABLE_NUMBA_CPU,
        "NUMBA_CPU_FEATURES": "",
    }


def apply_portable_from_environment() -> None:
    """If ``STATEBIZ_PORTABLE`` is set, set numpy's and numba's variables of the portable mode, so
    that numpy, imported after this, takes them. Called first thing by ``import simulation``.
    Raises :class:`PortableModeError` if numpy was imported before without them."""
    if not portable_requested():
        return
    env = portable_environment()
    if "numpy" in sys.modules and os.environ.get("NPY_DISABLE_CPU_FEATURES") != env["NPY_DISABLE_CPU_FEATURES"]:
        raise PortableModeError(
            f"{PORTABLE_ENV}=1 needs numpy's CPU features set before numpy is imported; numpy was imported "
            f"first: set {PORTABLE_ENV}=1 in the environment before starting Python, or import simulation "
            "before numpy"
        )
    os.environ.update(env)


def simd_targets() -> list[str]:
    """numpy's SIMD dispatch targets in effect (found on this CPU and not switched off)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]


def simd_level() -> str:
    """The highest x86-64 level numpy dispatches to (e.g. ``X86_V4``), its baseline if none."""
    from numpy._core._multiarray_umath import __cpu_baseline__

    levels = [t for t in simd_targets() if t.startswith("X86_V")]
    baseline = [t for t in __cpu_baseline__ if t.startswith("X86_V")]
    return (levels or baseline or ["unknown"])[-1]


def cpu_level() -> str:
    """The CPU's own highest x86-64 level, read from its features (whatever numpy has switched
    off): v4 needs AVX-512 F, CD, BW, DQ and VL; v3 AVX2, FMA and BMI2."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as has
    except ImportError:  # pragma: no cover - not numpy 2
        return "unknown"
    if all(has.get(f) for f in ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")):
        return "X86_V4"
    if all(has.get(f) for f in ("AVX2", "FMA3", "BMI2")):
        return "X86_V3"
    return "X86_V2" if has.get("SSE42") else platform.machine()


def _blas() -> str:
    try:
        import threadpoolctl

        info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 - information only
        return "unknown"
    return f"{info[0].get('internal_api')} {info[0].get('architecture')}" if info else "none"


def _numba_cpu() -> str:
    if os.environ.get("NUMBA_CPU_NAME"):
        return os.environ["NUMBA_CPU_NAME"]
    try:
        import llvmlite.binding as llvm

        return llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 - numba absent: the numpy path runs
        return "none"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.lru_cache(maxsize=1)
def fingerprint() -> dict[str, Any]:
    """This process's machine class and what it is read from (see the module's docstring).

    ``machine_class`` is a short label of the fields that decide a run's last bits (numpy's SIMD
    level and the three versions); numba's target CPU, the BLAS kernel and the CPU's own level
    are recorded for information: neither numba's target (its kernels take numpy's
    transcendental results and compile without fast-math) nor BLAS (unused in the model's
    arithmetic) changes a result, which ``tests/core/test_machine.py`` checks."""
    fields = {
        "arch": platform.machine(),
        "simd": simd_level(),
        "simd_targets": simd_targets(),
        "numba_cpu": _numba_cpu(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
    }
    portable = portable_requested() and fields["simd"] == PORTABLE_LEVEL and fields["numba_cpu"] == PORTABLE_NUMBA_CPU
    label = (
        f"{fields['arch']}-{fields['simd'].lower().replace('x86_', '')} "
        f"py{fields['python']} numpy{fields['numpy']} numba{fields['numba']}"
    )
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return {
        "machine_class": f"{label} [{digest}]",
        **fields,
        "portable": bool(portable),
        "cpu_level": cpu_level(),
        "blas": _blas(),
    }


def machine_class() -> str:
    """The short label of this process's machine class."""
    return fingerprint()["machine_class"]


def check_portable_in_effect() -> str | None:
    """None if the portable mode is asked for and in effect (or not asked for); else one line
    saying why it is not (a CPU below x86-64-v3, or numpy imported before the variables)."""
    if not portable_requested():
        return None
    level = simd_level()
    if level != PORTABLE_LEVEL:
        if cpu_level() not in ("X86_V3", "X86_V4"):
            return (
                f"portable mode: this CPU ({cpu_level()}) is below the portable level x86-64-v3; "
                "its results may differ from other machines' in the last bits"
            )
        return "portable mode asked for, but numpy was imported before its CPU features were capped"
    return None
