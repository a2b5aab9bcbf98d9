"""A read-only index of an ONNX graph: initializer arrays (decoded once), producers and consumers.

Both graph readers (the PyTorch rebuild and the static-int8 rewrite) walk the same quantised chains
(integer op -> Cast -> Mul by a scale), so they share this one index and its forward search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class GraphIndex:
    def __init__(self, graph: Any) -> None:
        self.init = {i.name: i for i in graph.initializer}
        self.producer = {o: n for n in graph.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in graph.node:
            for x in n.input:
                self.consumers.setdefault(x, []).append(n)
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            from onnx import numpy_helper

            self._arrays[name] = numpy_helper.to_array(self.init[name])
        return self._arrays[name]

    def search_forward(self, start: str, match: Callable[[str, Any], Any], depth: int = 4) -> Any:
        """Breadth-first over the consumers of ``start`` (``depth`` levels): the first non-None
        ``match(input_name, consumer_node)``, or None."""
        frontier = [start]
        for _ in range(depth):
            nxt = []
            for x in frontier:
                for c in self.consumers.get(x, []):
                    found = match(x, c)
                    if found is not None:
                        return found
                    nxt.extend(c.output)
            frontier = nxt
        return None
