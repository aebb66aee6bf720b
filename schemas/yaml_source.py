"""Parse YAML documents into contracts, reporting every problem with its file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

MAX_SOURCE_BYTES = 1_000_000

ModelT = TypeVar("ModelT", bound=BaseModel)
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError:
    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SourceInvalid(Exception):
    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def field_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Document:
    """A parsed YAML document that still knows where each value came from."""

    file: str
    root: yaml.Node
    data: Any

    def locate(self, path: Path_) -> tuple[int, int]:
        """Line and column of a field: its key when it has one, else its value; for a field
        that is missing, the mapping that should hold it."""
        node: yaml.Node = self.root
        mark = node.start_mark
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key, node = found
            mark = (key or node).start_mark
        return mark.line + 1, mark.column + 1

    def error(self, path: Path_, message: str) -> SourceError:
        line, column = self.locate(path)
        return SourceError(self.file, line, column, field_path(path), message)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None


def read_document(raw: bytes, file: str) -> Document:
    """Parse one YAML document; raises SourceInvalid, never anything else."""
    if len(raw) > MAX_SOURCE_BYTES:
        raise SourceInvalid(
            [SourceError(file, 1, 1, "", f"file is larger than {MAX_SOURCE_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceInvalid([SourceError(file, 1, 1, "", "not UTF-8 text")]) from None
    try:
        _refuse_aliases(text, file)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise SourceInvalid(
                [SourceError(file, 1, 1, "", "the file is empty; expected a mapping")]
            )
        duplicates = list(_duplicate_keys(root, (), file))
        data = yaml.SafeLoader(text).construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceInvalid(
            [SourceError(file, line, column, "", f"not valid YAML: {problem}")]
        ) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise SourceInvalid([SourceError(file, 1, 1, "", f"not valid YAML: {exc}")]) from None
    document = Document(file, root, data)
    if duplicates:
        raise SourceInvalid(duplicates)
    if not isinstance(data, dict):
        raise SourceInvalid(
            [document.error((), f"expected a mapping, found {type(data).__name__}")]
        )
    return document


def _refuse_aliases(text: str, file: str) -> None:
    """A playbook has no use for YAML aliases, and a few nested ones expand into billions of
    nodes; refuse the first before anything is built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            raise SourceInvalid(
                [
                    SourceError(
                        file,
                        line,
                        column,
                        "",
                        f"YAML aliases (*{event.anchor}) are not allowed; write the value out",
                    )
                ]
            )


def _duplicate_keys(node: yaml.Node, path: Path_, file: str) -> Iterator[SourceError]:
    # YAML loaders silently keep the last of two equal keys; a playbook author never means that.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                mark = key.start_mark
                yield SourceError(
                    file, mark.line + 1, mark.column + 1, field_path((*path, name)), "duplicate key"
                )
            seen.add(name)
            yield from _duplicate_keys(value, (*path, name), file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index), file)


_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "field required",
    "time_delta_parsing": "expected an ISO 8601 duration such as PT30M, PT4H or P3D",
    "time_delta_type": "expected an ISO 8601 duration such as PT30M, PT4H or P3D",
}


def validation_errors(document: Document, exc: ValidationError) -> list[SourceError]:
    found = [
        (tuple(p for p in err["loc"] if isinstance(p, str | int)), err)
        for err in exc.errors(include_url=False)
    ]
    errors = []
    for path, err in found:
        # A list whose items failed is also reported as too short; the items say it better.
        if any(other[: len(path)] == path and len(other) > len(path) for other, _ in found):
            continue
        errors.append(document.error(path, _MESSAGES.get(err["type"], err["msg"])))
    return sorted(errors, key=lambda e: (e.line, e.column))


def validate_document(document: Document, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise SourceInvalid(validation_errors(document, exc)) from None
