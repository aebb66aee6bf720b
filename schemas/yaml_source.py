"""Parse YAML documents into contracts, reporting every problem with its file, line and field."""

from __future__ import annotations

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
        node = self.root
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1

    def error(self, path: Path_, message: str) -> SourceError:
        line, column = self.locate(path)
        return SourceError(self.file, line, column, field_path(path), message)


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
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
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise SourceInvalid(
                [SourceError(file, 1, 1, "", "the file is empty; expected a mapping")]
            )
        duplicates = list(_duplicate_keys(root, ()))
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
        raise SourceInvalid([document.error(path, "duplicate key") for path in duplicates])
    if not isinstance(data, dict):
        raise SourceInvalid(
            [document.error((), f"expected a mapping, found {type(data).__name__}")]
        )
    return document


def _duplicate_keys(node: yaml.Node, path: Path_) -> Any:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield (*path, name)
            seen.add(name)
            yield from _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def validation_errors(document: Document, exc: ValidationError) -> list[SourceError]:
    errors = []
    for err in exc.errors(include_url=False):
        path = tuple(p for p in err["loc"] if isinstance(p, str | int))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "field required"
        errors.append(document.error(path, message))
    return errors


def validate_document(document: Document, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise SourceInvalid(validation_errors(document, exc)) from None
