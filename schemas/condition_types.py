"""Type-checking a parsed condition against the attributes it reads: a comparison must make
sense for the attribute's declared type, so a typo or a wrong operand cannot silently make a
safety-relevant task never apply."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from schemas.conditions import BoolOp, Compare, ListOf, Literal_, Name, Node, Not, Value
from schemas.playbook import AttributeType

ORDERING = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Declared:
    """What a condition may assume about a name: its type and, if closed, its values."""

    type: AttributeType
    values: tuple[str, ...] = ()


def _kind(value: Value) -> AttributeType:
    if isinstance(value, bool):
        return AttributeType.BOOLEAN
    if isinstance(value, float):
        return AttributeType.NUMBER
    return AttributeType.TEXT


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def type_problems(node: Node, declared: Mapping[str, Declared]) -> list[str]:
    """Every comparison that cannot mean what its author intended; empty when it type-checks.
    Names not in `declared` are reported elsewhere and skipped here."""
    return list(_walk(node, declared))


def _walk(node: Node, declared: Mapping[str, Declared]) -> Iterator[str]:
    match node:
        case Not(operand):
            yield from _walk(operand, declared)
        case BoolOp(_, operands):
            for operand in operands:
                yield from _walk(operand, declared)
        case Compare(left, op, right):
            yield from _compare(left, op, right, declared)


def _compare(left: Node, op: str, right: Node, declared: Mapping[str, Declared]) -> Iterator[str]:
    if isinstance(right, Name) and not isinstance(left, Name):
        left, right = right, left
    if not isinstance(left, Name) or left.name not in declared:
        return
    spec = declared[left.name]
    if op in ORDERING and spec.type is not AttributeType.NUMBER:
        yield f"{left.name} {op} …: ordering needs a number, and {left.name} is {spec.type.value}"
        return
    if isinstance(right, Name):
        other = declared.get(right.name)
        if other is not None and other.type is not spec.type:
            yield f"{left.name} ({spec.type.value}) is compared with {right.name} ({other.type})"
        return
    if isinstance(right, Literal_):
        yield from _literal(left.name, spec, right.value)
    elif isinstance(right, ListOf):
        for item in right.items:
            yield from _literal(left.name, spec, item.value)


def _literal(name: str, spec: Declared, value: Value) -> Iterator[str]:
    if _kind(value) is not spec.type:
        yield f"{name} is {spec.type.value}, compared with {_show(value)}"
    elif spec.values and isinstance(value, str) and value not in spec.values:
        yield f"{value!r} is not a value of {name}; expected one of: {', '.join(spec.values)}"
