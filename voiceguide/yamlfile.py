"""YAML loading that remembers line numbers, so every error can name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class FileError(ValueError):
    """A problem in a user-edited file, with the place and the fix in the message."""

    def __init__(self, path: Path | str, line: int | None, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}" + (f" Fix: {fix}" if fix else ""))


class LineDict(dict[str, Any]):
    """A mapping that knows the 1-based line of itself and of each key."""

    line: int = 0
    lines: dict[str, int]


class LineList(list[Any]):
    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


class _DuplicateKey(yaml.MarkedYAMLError):
    """The same key twice in one mapping: YAML would silently keep the last, hiding a typo."""

    def __init__(self, key: str, first: int, node: yaml.Node) -> None:
        super().__init__(problem=f"`{key}` is given twice here", problem_mark=node.start_mark)
        self.first = first


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if str(key) in out.lines:
            raise _DuplicateKey(str(key), out.lines[str(key)], key_node)
        out[str(key)] = loader.construct_object(value_node, deep=True)
        out.lines[str(key)] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load(path: Path) -> Any:
    """Parse a YAML file; syntax errors become FileError with the line of the fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError(path, None, "file not found.") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise FileError(path, line, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}).",
                        "save the file as UTF-8.") from None
    except OSError as exc:
        raise FileError(path, None, f"cannot read it ({exc.strerror}).") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except _DuplicateKey as exc:
        raise FileError(path, exc.problem_mark.line + 1, f"{exc.problem}.",
                        f"keep one of them (the other is on line {exc.first}).") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = f"not valid YAML: {exc.problem or exc.context}."
        raise FileError(path, line, problem, "check indentation and quoting there.") from None
    except yaml.YAMLError as exc:
        raise FileError(path, None, f"not valid YAML: {exc}.") from None


def line_of(container: Any, key: str | int) -> int | None:
    """Line of `key` inside a LineDict/LineList, or of the container itself."""
    if isinstance(container, LineDict) and isinstance(key, str) and key in container.lines:
        return container.lines[key]
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", None) or None
