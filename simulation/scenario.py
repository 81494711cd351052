"""Scenario files: a named set of parameter values, read from TOML and validated.

The parameters themselves (types, defaults, ranges, units, sources, governance presets,
resolution order) are declared in ``simulation.parameters``; a scenario file groups them
into sections for readability.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .io import check_name, load_toml
from .parameters import (  # noqa: F401 - re-exported: the scenario API predates the registry module
    BY_NAME,
    GOVERNANCE_PRESETS,
    META_KEYS,
    PARAMETERS,
    SECTIONS,
    Param,
    ScenarioError,
    _suggest,
    defaults,
    resolve,
)


@dataclass
class Scenario:
    """A resolved scenario: its name, description, source file and full parameter set."""

    name: str
    params: dict[str, Any]
    description: str = ""
    path: str | None = None
    explicit: dict[str, Any] | None = None

    def with_overrides(self, **overrides: Any) -> Scenario:
        """A copy with more parameters set; a governance override re-applies that preset
        under the scenario file's explicit values."""
        explicit = dict(self.explicit or {}) | {k: v for k, v in overrides.items() if v is not None}
        origin = f"{self.path or self.name} (overrides)"
        return Scenario(self.name, resolve(explicit, origin), self.description, self.path, explicit)


def read_scenario_file(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a scenario TOML file into flat explicit parameters and metadata."""
    path = Path(path)
    raw, _ = load_toml(path, "scenario", ScenarioError)
    meta: dict[str, str] = {}
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in META_KEYS:
            if not isinstance(value, str):
                raise ScenarioError(f"{path}: '{key}' = {value!r} is not allowed; expected a string")
            if key == "name":
                check_name(value, str(path), error=ScenarioError)
            meta[key] = value
        elif isinstance(value, dict):
            if key not in SECTIONS:
                raise ScenarioError(
                    f"{path}: unknown section [{key}]{_suggest(key)}; sections are {', '.join(SECTIONS)}"
                )
            for name in value:
                if name in BY_NAME and BY_NAME[name].section != key:
                    raise ScenarioError(f"{path}: '{key}.{name}' belongs in section [{BY_NAME[name].section}]")
                if name not in BY_NAME:
                    raise ScenarioError(f"{path}: unknown parameter '{key}.{name}'{_suggest(name)}")
                flat[name] = value[name]
        elif key in BY_NAME:
            flat[key] = value
        else:
            raise ScenarioError(f"{path}: unknown key '{key}'{_suggest(key)}")
    return flat, meta


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Load and validate a scenario file, applying overrides (None values are ignored).

    Raises:
        ScenarioError: missing or malformed file, unknown key, wrong type, value out of range.
    """
    flat, meta = read_scenario_file(path)
    explicit = flat | {k: v for k, v in overrides.items() if v is not None}
    params = resolve(explicit, str(path))
    return Scenario(meta.get("name", Path(path).stem), params, meta.get("description", ""), str(path), explicit)
