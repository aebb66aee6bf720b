"""Derived lookups of immutable contracts, built once per object.

A frozen roster or playbook run is read many times for the same answer (a member by id, a
template by key); scanning its tuples each time makes a thousand escalations falling due at once
quadratic. `functools.cached_property` is not safe on pydantic models: `model_copy(update=…)`
carries the cached value over to a copy whose fields differ. So the index lives here, keyed by
the object's identity and holding the object, which keeps its id from being reused while cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    """`build(obj)`, remembered for the `size` objects most recently asked about."""

    def __init__(self, build: Callable[[K], V], size: int = 64) -> None:
        self._build = build
        self._size = size
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def __call__(self, obj: K) -> V:
        entry = self._entries.get(id(obj))
        if entry is not None and entry[0] is obj:
            self._entries.move_to_end(id(obj))
            return entry[1]
        value = self._build(obj)
        self._entries[id(obj)] = (obj, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value
