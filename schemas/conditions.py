"""A small, safe condition language for playbooks, parsed and checked, never evaluated by `eval`.

    victim_deceased and language != 'en'
    officers_involved >= 2 or (severity in ['high', 'critical'] and not media_attention)

Grammar:
    or  := and ('or' and)*          and  := not ('and' not)*        not := 'not' not | cmp
    cmp := atom (op atom)?          op   := == != < <= > >= in
    atom := name | literal | '[' literal, ... ']' | '(' or ')'
Literals are 'strings', "strings", numbers, true and false. Names are incident attributes (and
`severity`, `incident_type`). Attributes arrive as text and are converted by their declared type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Value = str | float | bool
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in"]


class ConditionError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position + 1}")
        self.position = position


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Literal_:
    value: Value


@dataclass(frozen=True)
class ListOf:
    items: tuple[Literal_, ...]


@dataclass(frozen=True)
class Compare:
    left: Node
    op: Operator
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    operands: tuple[Node, ...]


Node = Name | Literal_ | ListOf | Compare | Not | BoolOp

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_DESCRIBE = {
    "word": "a name",
    "num": "a number",
    "str": "a 'string'",
    "end": "the end",
    "true": "true",
    "false": "false",
}
MAX_LENGTH = 500
# Deeper nesting than this is no condition a person can review; it is refused, not recursed into.
MAX_DEPTH = 16


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            rest = source[position:]
            at = position + len(rest) - len(rest.lstrip())
            raise ConditionError(f"unexpected {rest.strip()[:1]!r}", at)
        kind = match.lastgroup or ""
        text = match.group(kind)
        start = match.start(kind)
        if kind == "word" and text in _KEYWORDS:
            kind = text
        tokens.append(_Token(kind, text, start))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.index = 0
        self.depth = 0

    def deeper(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"nested deeper than {MAX_DEPTH} levels", position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self, *kinds: str) -> _Token:
        token = self.peek()
        if token.kind not in kinds and token.text not in kinds:
            found = repr(token.text) if token.text else "the end"
            wanted = " or ".join(_DESCRIBE.get(kind, repr(kind)) for kind in kinds)
            raise ConditionError(f"expected {wanted}, found {found}", token.position)
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.or_()
        self.take("end")
        return node

    def or_(self) -> Node:
        operands = [self.and_()]
        while self.peek().kind == "or":
            self.index += 1
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_(self) -> Node:
        operands = [self.not_()]
        while self.peek().kind == "and":
            self.index += 1
            operands.append(self.not_())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def not_(self) -> Node:
        if self.peek().kind == "not":
            self.deeper(self.peek().position)
            self.index += 1
            node = Not(self.not_())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.atom()
        token = self.peek()
        if token.text in ("==", "!=", "<", "<=", ">", ">=") or token.kind == "in":
            self.index += 1
            op: Operator = "in" if token.kind == "in" else token.text  # type: ignore[assignment]
            right = self.atom()
            if op == "in" and not isinstance(right, ListOf):
                raise ConditionError("'in' needs a list such as ['a', 'b']", token.position)
            return Compare(left, op, right)
        return left

    def atom(self) -> Node:
        token = self.take("word", "num", "str", "true", "false", "(", "[")
        if token.kind == "word":
            return Name(token.text)
        if token.text == "(":
            self.deeper(token.position)
            node = self.or_()
            self.take(")")
            self.depth -= 1
            return node
        if token.text == "[":
            self.deeper(token.position)
            items: list[Literal_] = []
            while self.peek().text != "]":
                item = self.atom()
                if not isinstance(item, Literal_):
                    raise ConditionError("a list holds literals only", token.position)
                items.append(item)
                if self.peek().text != ",":
                    break
                self.index += 1
            self.take("]")
            self.depth -= 1
            return ListOf(tuple(items))
        return Literal_(_literal(token))


def _literal(token: _Token) -> Value:
    if token.kind == "num":
        return float(token.text)
    if token.kind == "str":
        return token.text[1:-1]
    return token.kind == "true"


def parse(source: str) -> Node:
    """Parse a condition; raises ConditionError saying what and where."""
    if len(source) > MAX_LENGTH:
        raise ConditionError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(source).parse()


def names(node: Node) -> set[str]:
    match node:
        case Name(name):
            return {name}
        case Compare(left, _, right):
            return names(left) | names(right)
        case Not(operand):
            return names(operand)
        case BoolOp(_, operands):
            return set().union(*(names(o) for o in operands))
    return set()


def evaluate(node: Node, values: dict[str, Value | None]) -> bool:
    """Evaluate against attribute values; a missing attribute is falsy and equals nothing."""
    return bool(_value(node, values))


def _value(node: Node, values: dict[str, Value | None]) -> Value | None | tuple[Value, ...]:
    match node:
        case Name(name):
            return values.get(name)
        case Literal_(value):
            return value
        case ListOf(items):
            return tuple(item.value for item in items)
        case Not(operand):
            return not _value(operand, values)
        case BoolOp("and", operands):
            return all(_value(o, values) for o in operands)
        case BoolOp(_, operands):
            return any(_value(o, values) for o in operands)
        case Compare(left, op, right):
            return _compare(_value(left, values), op, _value(right, values))
    raise AssertionError(node)


def _compare(left: object, op: Operator, right: object) -> bool:
    if op == "in":
        return isinstance(right, tuple) and left in right
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if not isinstance(left, int | float) or not isinstance(right, int | float):
        return False  # ordering needs two numbers; a missing value satisfies nothing
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
