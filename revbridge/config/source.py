"""Reading a policy file: YAML text into plain data, keeping the line and column of every node.

The text is read once with ruamel.yaml's round-trip loader, which keeps the ``lc``
position of each key, value and list item; its constructor is told to record duplicate
keys (keeping the first value) instead of stopping at the first one. A path into the data
(the keys and indexes leading to a node, as in a pydantic error ``loc``) is turned into the
position of that node by :meth:`Document.locate`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from revbridge.config.report import Problem

PathItem = str | int
Anchor = Literal["auto", "key", "value"]


class Document:
    """A parsed policy file: round-trip data with positions, and its plain-Python twin."""

    def __init__(self, file: str, root: Any) -> None:
        self.file = file
        self.root = root
        self.data: Any = plain(root)

    def resolve(self, path: Sequence[PathItem]) -> tuple[list[PathItem], bool]:
        """The longest prefix of ``path`` present in the file, and whether all of it is.

        A union tag in a pydantic ``loc`` (a system's ``kind`` value) is skipped.
        """
        node = self.root
        found: list[PathItem] = []
        for item in path:
            in_list = isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)
            if in_list or (isinstance(node, dict) and item in node):
                node = node[item]
            elif isinstance(node, dict) and item == node.get("kind"):
                continue
            else:
                return found, False
            found.append(item)
        return found, True

    def locate(self, path: Sequence[PathItem], anchor: Anchor = "auto") -> tuple[int, int]:
        """1-based (line, column) of the node at ``path``, or of its nearest present ancestor.

        ``auto`` points at a scalar's value and at the key of a mapping or list.
        """
        found, _ = self.resolve(path)
        if not found:
            return _one_based(self.root.lc.line, self.root.lc.col)
        parent: Any = self.root
        for item in found[:-1]:
            parent = parent[item]
        last, positions = found[-1], parent.lc
        if isinstance(parent, list):
            return _one_based(*positions.item(last))
        value = parent[last]
        collection = value is None or isinstance(value, dict | list)
        if anchor == "key" or (anchor == "auto" and collection):
            return _one_based(*positions.key(last))
        return _one_based(*positions.value(last))

    def problem(self, path: Sequence[PathItem], message: str, anchor: Anchor = "auto") -> Problem:
        """A :class:`Problem` at the node ``path`` leads to."""
        line, col = self.locate(path, anchor)
        return Problem(self.file, line, col, message)


class _DuplicateRecorder(RoundTripConstructor):
    """Keeps the first value of a duplicate key and records where the duplicate was."""

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> bool:
        if key not in mapping:
            return True
        first_line = mapping.lc.key(key)[0] + 1 if key in mapping.lc.data else None
        mark = key_node.start_mark
        self.duplicates.append((str(key), mark.line + 1, mark.column + 1, first_line))
        return False

    @property
    def duplicates(self) -> list[tuple[str, int, int, int | None]]:
        if not hasattr(self, "_duplicates"):
            self._duplicates: list[tuple[str, int, int, int | None]] = []
        return self._duplicates


def parse(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse ``text``; the document (None if unusable) and the problems found on the way."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _DuplicateRecorder
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, file)]
    except YAMLError as exc:
        return None, [Problem(file, 1, 1, f"YAML error: {exc}")]
    if root is None and not _has_content(text):
        message = "the file is empty: a policy file starts with 'version: 1'"
        return None, [Problem(file, 1, 1, message)]
    if not isinstance(root, dict):
        message = "a policy file is a mapping of sections (version, systems, ...)"
        return None, [Problem(file, *_start(root), message)]
    problems = [
        Problem(file, line, col, _duplicate_message(key, first))
        for key, line, col, first in yaml.constructor.duplicates
    ]
    return Document(file, root), problems


def _has_content(text: str) -> bool:
    lines = (line.strip() for line in text.splitlines())
    return any(line and not line.startswith("#") and line not in ("---", "...") for line in lines)


def _start(root: Any) -> tuple[int, int]:
    lc = getattr(root, "lc", None)
    return (lc.line + 1, lc.col + 1) if lc is not None and lc.line is not None else (1, 1)


def _duplicate_message(key: str, first_line: int | None) -> str:
    where = f" (first on line {first_line})" if first_line is not None else ""
    return f"duplicate key '{key}'{where}; the first value is used"


def _syntax_problem(exc: MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    kind = "YAML error" if isinstance(exc, ConstructorError) else "YAML syntax error"
    message = f"{kind}: {exc.problem or exc.context}"
    if "single document" in str(exc.context):
        message = "YAML syntax error: a policy file is one YAML document; found a second one"
    elif exc.problem and exc.context:
        message += f" ({exc.context})"
    return Problem(file, line, col, message)


def _one_based(line: int, col: int) -> tuple[int, int]:
    return line + 1, col + 1


def plain(value: Any) -> Any:
    """Round-trip data as built-in types (dict, list, str, int, float, bool, None)."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def canonical_json(data: Any) -> str:
    """The document as sorted, compact JSON: independent of comments, order and layout."""
    return json.dumps(
        _stringify_keys(data),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def content_hash(data: Any) -> str:
    """sha256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _stringify_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value
