"""Reference values for F.Linear and F.MatMul. Run: /usr/bin/python3 tests/Fovea.Tests/Fixtures/gen_linear.py"""
import torch.nn.functional as tf
import torch

from fixturelib import case, randn, write

cases = []
for n, i, o, bias in [(1, 1, 1, True), (3, 7, 5, True), (4, 13, 11, False), (2, 64, 3, True)]:
    inputs = {"x": randn(n, i, seed=1), "weight": randn(o, i, seed=2)}
    if bias:
        inputs["bias"] = randn(o, seed=3)
    cases.append(case(f"linear_{n}x{i}_to_{o}{'_bias' if bias else ''}", "Linear", {}, inputs,
                      lambda x, weight, bias=None: tf.linear(x, weight, bias)))
for shape_a, shape_b in [((1, 1), (1, 1)), ((3, 5), (5, 7)), ((2, 3, 4), (2, 4, 5))]:
    cases.append(case(f"matmul_{shape_a}_{shape_b}", "MatMul", {}, {"a": randn(*shape_a, seed=4), "b": randn(*shape_b, seed=5)},
                      lambda a, b: torch.matmul(a, b)))
write("linear", cases)
