import pytest

from archsim.workload.graph import Graph, Op, OpKind, Tensor


def linear_graph(m=64, n=64, k=256, *, name="fc", params=None):
    g = Graph("one-linear", params=params or {})
    x = Tensor("x", (1, m, k), "fp16", "input")
    w = Tensor("w", (n, k), "fp16", "weight")
    y = Tensor("y", (1, m, n), "fp16", "output")
    g.add_op(Op(name, OpKind.MATMUL, (x, w), (y,), {"batch": 1, "m": m, "n": n, "k": k}))
    return g


@pytest.fixture
def one_linear():
    return linear_graph
