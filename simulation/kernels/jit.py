"""One source, compiled or not: ``kernel`` for a submodel's pass over the firms, ``jitable`` for its helpers.

A submodel writes its per-firm arithmetic once, as a plain Python function of arrays written in the
subset of Python that numba compiles (loops, scalar arithmetic, ``np.empty``/``np.zeros``, records of
arrays, calls of ``jitable`` helpers). ``@kernel`` makes it callable both ways: compiled by numba
(``cache=True``, on first call) when ``enabled()``, the same function run by the interpreter when the
kernels are off (``STATEBIZ_KERNELS=numpy``, ``use(False)``, or numba missing). There is no second copy
to keep equal.

Records. A kernel takes its arrays as small ``typing.NamedTuple`` records (struct of arrays: the fields
are views of the firm table's columns or of the quarter's event arrays, nothing is copied) and its
constants as a record of floats and ints named after the registered parameters (``constants``). Numba
types a named tuple field by field, reads ``rec.field`` at compile time (no lookup at run time), passes
it to the on-disk cache like any tuple, and unboxes it at the cost of its arrays; a jitclass cannot be
cached on disk and boxes every instance, a structref needs a type, a model and boxing written out for
each record. A named tuple is also a plain Python object, so the interpreted path reads it the same way.

Caching: numba keys a kernel's cache on its own source file. A kernel's helpers therefore live in its own
module or here (``maximum``, ``minimum``), so that an edit of a helper is an edit of the file whose
cache it invalidates.
"""

from __future__ import annotations

import functools
import typing

from .switch import AVAILABLE, enabled, numba


def jitable(fn):
    """A helper that kernels call: plain Python as written, compiled inline into a compiled kernel."""
    if AVAILABLE:
        return numba.extending.register_jitable(fn)
    return fn


class Kernel:
    """A pass written once: numba-compiled when the kernels are on, the same function interpreted when off."""

    def __init__(self, fn):
        self.py_func = fn
        self._compiled = None
        functools.update_wrapper(self, fn)

    def compiled(self):
        """The numba dispatcher (compiled, or loaded from the cache, on its first call)."""
        if self._compiled is None:
            self._compiled = numba.njit(cache=True)(self.py_func)
        return self._compiled

    def __call__(self, *args):
        """Run the pass: compiled when the kernels are on, interpreted when off."""
        if enabled():
            return self.compiled()(*args)
        return self.py_func(*args)


def kernel(fn) -> Kernel:
    """Decorator: see :class:`Kernel`."""
    return Kernel(fn)


@jitable
def maximum(a, b):
    """np.maximum of two scalars: a unless it is smaller (NaN propagates)."""
    return a if (a >= b or a != a) else b


@jitable
def minimum(a, b):
    """np.minimum of two scalars (NaN propagates)."""
    return a if (a <= b or a != a) else b


def view(record: type, source, **given):
    """A record whose fields are ``source``'s attributes (or items, for a dict) of the same names;
    ``given`` supplies or overrides fields by name."""
    get = source.__getitem__ if isinstance(source, dict) else functools.partial(getattr, source)
    return record(*(given[name] if name in given else get(name) for name in record._fields))


@functools.cache
def _hints(record: type) -> dict:
    return typing.get_type_hints(record)


def constants(record: type, params, **given):
    """A record of constants named after the registered parameters (``params[name]``), each cast to
    its annotated type (float or int: one compiled signature whatever the caller passed); ``given``
    supplies derived constants by name."""
    hints = _hints(record)
    return record(*(hints[name](given[name] if name in given else params[name]) for name in record._fields))
