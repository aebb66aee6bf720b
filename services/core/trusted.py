"""Building a contract from values that are already valid, without validating them again.

For a hot path that builds many small models (a timeline entry per event of a long incident)
out of values taken from models that were validated when read: validation would only find them
valid again, and it costs more than everything else such a path does. pydantic's own
`model_construct` does the same but is slower still (it looks up aliases and copies defaults
field by field), so a `Builder` makes the instance as it does, with the model's fields worked out
once. The result equals what validation gives (tests/unit/test_trusted.py); use it only where
every value is already of its field's type."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_setattr = object.__setattr__


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each optional field's default, refusing a model whose instances validation would make
    otherwise than by taking the values given and these defaults."""
    if (
        model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
    ):
        raise TypeError(f"{model.__name__}: post-init, private attributes or extras unsupported")
    defaults: dict[str, Any] = {}
    for name, info in model.__pydantic_fields__.items():
        if info.default_factory is not None:
            raise TypeError(f"{model.__name__}.{name}: a default factory is not supported")
        if not info.is_required():
            if not isinstance(info.default, Hashable):
                # Validation copies a mutable default for each instance; sharing it would not do.
                raise TypeError(f"{model.__name__}.{name}: a mutable default is not supported")
            defaults[name] = info.default
    return defaults


class Builder(Generic[M]):
    """Makes `model` instances from every field's value, in the model's declared order, as
    validation makes them of the same values passed but for `unset` (optional fields left at
    their defaults, so not in `model_fields_set`). Each call checks the fields' names and order
    and that the unset ones hold their defaults, not the values' types."""

    def __init__(self, model: type[M], unset: Iterable[str] = ()) -> None:
        defaults, left = _defaults(model), tuple(unset)
        if not defaults.keys() >= set(left):
            raise TypeError(f"{model.__name__}: only optional fields can be left unset")
        self._model = model
        self._names = tuple(model.__pydantic_fields__)
        self._unset = tuple((name, defaults[name]) for name in left)
        self._given = set(self._names) - {name for name, _ in self._unset}

    def __call__(self, fields: dict[str, Any]) -> M:
        """The instance, whose own field values `fields` becomes."""
        if tuple(fields) != self._names:
            raise TypeError(f"{self._model.__name__}: fields {list(fields)}, not {self._names}")
        for name, default in self._unset:
            if fields[name] is not default and fields[name] != default:
                raise TypeError(f"{self._model.__name__}.{name} is set, not left at its default")
        instance = object.__new__(self._model)
        _setattr(instance, "__dict__", fields)
        _setattr(instance, "__pydantic_fields_set__", self._given.copy())
        _setattr(instance, "__pydantic_extra__", None)
        _setattr(instance, "__pydantic_private__", None)
        return instance
