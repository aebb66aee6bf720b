"""Building a contract from values that are already valid, without validating them again.

For a hot path that builds many small models (a timeline entry per event of a long incident)
out of values taken from models that were validated when read: validation would only find them
valid again, and it costs more than everything else such a path does. pydantic's own
`model_construct` does the same but is slower still (it looks up aliases and copies defaults
field by field), so this builds the instance as it does, with each model's field order and
defaults worked out once. The result equals what validation gives (tests/unit/test_trusted.py);
use it only where every value is already of its field's type."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_setattr = object.__setattr__


@functools.cache
def _layout(model: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    """Every field in declared order with its default (None where there is none), and the
    names of the required fields."""
    if (
        model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
    ):
        raise TypeError(f"{model.__name__}: post-init, private attributes or extras unsupported")
    defaults: dict[str, Any] = {}
    required: set[str] = set()
    for name, info in model.__pydantic_fields__.items():
        if info.default_factory is not None:
            raise TypeError(f"{model.__name__}.{name}: a default factory is not supported")
        if info.is_required():
            required.add(name)
        elif not isinstance(info.default, Hashable):
            # Validation copies a mutable default for each instance; sharing it would not do.
            raise TypeError(f"{model.__name__}.{name}: a mutable default is not supported")
        defaults[name] = None if info.is_required() else info.default
    return defaults, frozenset(required)


def trusted(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` for values already of their fields' types: the same instance (same
    values, fields set, field order), without validating them."""
    defaults, required = _layout(model)
    fields = {**defaults, **values}
    if len(fields) != len(defaults) or not values.keys() >= required:
        unknown = sorted(values.keys() - defaults.keys())
        missing = sorted(required - values.keys())
        raise TypeError(f"{model.__name__}: unknown fields {unknown}, missing {missing}")
    instance = object.__new__(model)
    _setattr(instance, "__dict__", fields)
    _setattr(instance, "__pydantic_fields_set__", set(values))
    _setattr(instance, "__pydantic_extra__", None)
    _setattr(instance, "__pydantic_private__", None)
    return instance
