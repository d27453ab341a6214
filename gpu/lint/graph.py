"""The workspace call graph and module graph, from every file's :class:`FnSummary`.

Resolution is by name, as far as tokens can see: a call ``foo(..)``, ``path::foo(..)`` or
``.foo(..)`` is an edge to every fn of the workspace named ``foo``. That over-approximates (two
``new`` fns in two types both receive a call to either), which is the safe side for the GPU rules
built on it: recursion is reported only through cycles of GPU fns, and "calls a non-device fn"
only when *no* fn of that name is GPU code (so an ambiguous name never raises a false alarm).

The module graph maps each file to the module path the file defines (``src/a/b.rs`` ->
``a::b``, ``mod.rs``/``lib.rs``/``main.rs`` rules as rustc's), which is how a finding names a
fn of another file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rustg.gpu.items import ItemFlag
from rustg.gpu.lint.context import FnInfo, FnSummary

__all__ = ["CallGraph", "Node", "module_path"]

Node = tuple[str, int]  # (path, position in the file's FnSummary.fns)
GPU_FLAGS = int(ItemFlag.KERNEL | ItemFlag.DEVICE)


def module_path(path: str) -> str:
    """``src/a/b.rs`` -> ``a::b``; ``src/lib.rs`` -> ``crate``; ``x/mod.rs`` -> its folder."""
    parts = path.removesuffix(".rs").split("/")
    if "src" in parts:
        parts = parts[len(parts) - parts[::-1].index("src") :]
    if parts and parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


@dataclass
class CallGraph:
    """Edges between the GPU fns given (by callee name); ``names`` says, for any fn name of the
    workspace, how many GPU fns and how many other fns are called that."""

    summaries: Mapping[str, FnSummary]
    names: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    by_name: dict[str, list[Node]] = field(default_factory=dict)
    edges: dict[Node, list[tuple[Node, int]]] = field(default_factory=dict)  # -> (callee, call)

    @classmethod
    def build(
        cls, summaries: Mapping[str, FnSummary], names: Mapping[str, tuple[int, int]]
    ) -> CallGraph:
        g = cls(summaries, names)
        for path in sorted(summaries):
            for k, fn in enumerate(summaries[path].fns):
                g.by_name.setdefault(fn.name, []).append((path, k))
        for path in sorted(summaries):
            for k, fn in enumerate(summaries[path].fns):
                out: list[tuple[Node, int]] = []
                for c, (callee, _s, _e, _m) in enumerate(fn.calls):
                    for node in g.by_name.get(callee, ()):
                        out.append((node, c))
                g.edges[(path, k)] = out
        return g

    def fn(self, node: Node) -> FnInfo:
        return self.summaries[node[0]].fns[node[1]]

    def is_gpu(self, node: Node) -> bool:
        return bool(self.fn(node).flags & GPU_FLAGS)

    def gpu_cycles(self) -> list[list[Node]]:
        """Strongly connected components of the GPU-fn subgraph that hold a cycle (a
        component of several fns, or one fn calling itself); iterative Tarjan."""
        nodes = [n for n in self.edges if self.is_gpu(n)]
        succ = {n: [m for m, _ in self.edges[n] if self.is_gpu(m)] for n in nodes}
        index: dict[Node, int] = {}
        low: dict[Node, int] = {}
        on_stack: set[Node] = set()
        stack: list[Node] = []
        out: list[list[Node]] = []
        counter = 0
        for root in nodes:
            if root in index:
                continue
            work: list[tuple[Node, int]] = [(root, 0)]
            while work:
                v, i = work.pop()
                if i == 0:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on_stack.add(v)
                recurse = False
                ws = succ[v]
                while i < len(ws):
                    w = ws[i]
                    i += 1
                    if w not in index:
                        work.append((v, i))
                        work.append((w, 0))
                        recurse = True
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                if recurse:
                    continue
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in succ[v]:
                        out.append(sorted(comp))
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
        return sorted(out)
