"""Reading a policy file: YAML text into plain data, keeping the line and column of every node.

The text is read twice with ruamel.yaml's round-trip loader: once composed into nodes, to
report syntax errors and duplicate keys at the parser's position, once constructed, for the
data and the ``lc`` positions of each key, value and list item. A path into the data (the
keys and indexes leading to a node, as in a pydantic error ``loc``) is turned into the
position of that node by :meth:`Document.locate`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
            if isinstance(node, dict) and item in node:
                node = node[item]
            elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
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
        parent = self.root
        for item in found[:-1]:
            parent = parent[item]
        last = found[-1]
        if isinstance(parent, list):
            return _one_based(*parent.lc.item(last))
        value = parent[last]
        if anchor == "key" or (
            anchor == "auto" and (value is None or isinstance(value, dict | list))
        ):
            return _one_based(*parent.lc.key(last))
        return _one_based(*parent.lc.value(last))

    def problem(self, path: Sequence[PathItem], message: str, anchor: Anchor = "auto") -> Problem:
        """A :class:`Problem` at the node ``path`` leads to."""
        line, col = self.locate(path, anchor)
        return Problem(self.file, line, col, message)


def parse(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse ``text``; the document (None if unusable) and the problems found on the way."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        node = yaml.compose(text)
        root = yaml.load(text) if node is not None else None
    except MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, file)]
    except YAMLError as exc:
        return None, [Problem(file, 1, 1, f"YAML error: {exc}")]
    if node is None:
        message = "the file is empty: a policy file starts with 'version: 1'"
        return None, [Problem(file, 1, 1, message)]
    if not isinstance(root, dict):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        message = "a policy file is a mapping of sections (version, systems, ...)"
        return None, [Problem(file, line, col, message)]
    return Document(file, root), _duplicate_keys(node, file)


def _syntax_problem(exc: MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.problem and exc.context:
        message += f" ({exc.context})"
    return Problem(file, line, col, message)


def _duplicate_keys(root: Node, file: str) -> list[Problem]:
    problems: list[Problem] = []
    stack, seen_nodes = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value != "<<":
                    if key.value in first:
                        line, col = key.start_mark.line + 1, key.start_mark.column + 1
                        message = (
                            f"duplicate key '{key.value}' (first on line {first[key.value]}); "
                            "the first value is used"
                        )
                        problems.append(Problem(file, line, col, message))
                    else:
                        first[key.value] = key.start_mark.line + 1
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return problems


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
        _stringify_keys(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
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
