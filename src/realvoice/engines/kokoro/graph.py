"""A read-only index of an ONNX graph (initializer arrays decoded once, producers and consumers), and
the two clean-ups every graph rewrite ends with.

The graph readers (the PyTorch rebuild, the static-int8 and OpenVINO rewrites) walk the same
quantised chains (integer op -> Cast -> Mul by a scale), so they share this one index and its
forward search.
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


def prune_initializers(graph: Any) -> None:
    """Drop the initializers no node reads any more (after a rewrite replaced their readers)."""
    used = {x for n in graph.node for x in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def toposort(graph: Any) -> None:
    """Reorder the nodes so each comes after what it reads (ONNX requires it; rewrites append)."""
    import collections

    avail = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    nodes = list(graph.node)
    deps = [{x for x in n.input if x and x not in avail} for n in nodes]
    cons = collections.defaultdict(list)
    for i, d in enumerate(deps):
        for x in d:
            cons[x].append(i)
    cnt = [len(d) for d in deps]
    ready = [i for i in range(len(nodes)) if cnt[i] == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(nodes[i])
        for o in nodes[i].output:
            for j in cons.get(o, []):
                cnt[j] -= 1
                if cnt[j] == 0:
                    ready.append(j)
    assert len(order) == len(nodes), "graph is not a DAG"
    del graph.node[:]
    graph.node.extend(order)
