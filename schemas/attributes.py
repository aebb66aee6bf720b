"""Checking an incident's attributes against what the playbooks for its type declare, as a pure
function: an unknown key, a value of the wrong type or outside a closed set would silently make
a condition false and skip a task, so each is refused, naming the attribute and what is allowed."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping

from schemas.playbook import (
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    AttributeSpec,
    AttributeType,
    parse_boolean,
)


class AttributeRefused(ValueError):
    pass


def checked(
    attributes: Mapping[str, str], declared: Mapping[str, AttributeSpec], incident_type: str
) -> dict[str, str]:
    """The attributes as they will be stored (booleans spelled `true` or `false`); raises
    AttributeRefused naming the first problem."""
    result: dict[str, str] = {}
    for name, raw in attributes.items():
        spec = declared.get(name)
        if spec is None:
            raise AttributeRefused(_unknown(name, declared, incident_type))
        result[name] = _value(name, raw, spec)
    return result


def _unknown(name: str, declared: Mapping[str, AttributeSpec], incident_type: str) -> str:
    if not declared:
        return f"unknown attribute {name}: no playbook for {incident_type} reads attributes"
    close = difflib.get_close_matches(name, list(declared), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown attribute {name}{hint}; {incident_type} takes: {', '.join(sorted(declared))}"


def _value(name: str, raw: str, spec: AttributeSpec) -> str:
    if spec.type is AttributeType.BOOLEAN:
        flag = parse_boolean(raw)
        if flag is None:
            spellings = ", ".join((*TRUE_SPELLINGS, *FALSE_SPELLINGS))
            raise AttributeRefused(f"attribute {name}={raw!r} must be a boolean: {spellings}")
        return "true" if flag else "false"
    if spec.type is AttributeType.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise AttributeRefused(f"attribute {name}={raw!r} must be a number")
        return raw.strip()
    if spec.values and raw not in spec.values:
        close = difflib.get_close_matches(raw, list(spec.values), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise AttributeRefused(
            f"attribute {name}={raw!r} is not allowed{hint}; expected one of: "
            f"{', '.join(spec.values)}"
        )
    return raw
