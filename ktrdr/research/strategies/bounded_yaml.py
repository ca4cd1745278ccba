"""YAML for strategies, read within bounds: nesting depth and size after aliases.

PyYAML's safe loader builds aliases as shared references, so a kilobyte of ``&a [*b, *b,
...]`` anchors describes billions of nodes: harmless until something walks the value
(validation, an error message that prints it). Its composer is also recursive: tens of
thousands of nested brackets exhaust the stack. Both are checked here, before any
validation sees the data.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 64
MAX_NODES = 100_000  # counted with every alias expanded


class YamlLimitError(yaml.YAMLError):
    """The document is deeper or, aliases expanded, larger than a strategy can be."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(
                    f"nesting deeper than {MAX_DEPTH} levels at line {mark.line + 1}"
                )
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise YamlLimitError(
                f"the document has more than {MAX_NODES} values once its aliases are expanded"
            )
        return node


def _expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """Nodes in ``node`` with aliases expanded; shared nodes are measured once."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = MAX_NODES + 1  # a cycle (an alias inside its own anchor) is too large
    if isinstance(node, SequenceNode):
        total = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, MappingNode):
        total = 1 + sum(
            _expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value
        )
    else:
        total = 1
    sizes[id(node)] = min(total, MAX_NODES + 1)
    return sizes[id(node)]


def load_bounded(text: str) -> Any:
    """``yaml.safe_load`` within MAX_DEPTH and MAX_NODES; YamlLimitError beyond them."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
