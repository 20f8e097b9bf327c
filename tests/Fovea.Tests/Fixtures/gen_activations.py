"""Reference values for F.Relu, LeakyRelu, Elu, Gelu, Sigmoid, Tanh, Softmax and LogSoftmax.
Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_activations.py"""
import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write


def away_from_kink(x, margin=0.05):
    """Moves values off 0 so finite differences (step 1e-2) never straddle a kink."""
    return x + torch.sign(x) * margin


def tag(shape):
    return "x".join(str(d) for d in shape)


ELEMENTWISE = [
    ("relu", "Relu", {}, lambda p: lambda x: tf.relu(x)),
    ("leaky_relu_0.01", "LeakyRelu", {"negative_slope": 0.01}, lambda p: lambda x: tf.leaky_relu(x, p["negative_slope"])),
    ("leaky_relu_0.2", "LeakyRelu", {"negative_slope": 0.2}, lambda p: lambda x: tf.leaky_relu(x, p["negative_slope"])),
    ("elu_1", "Elu", {"alpha": 1.0}, lambda p: lambda x: tf.elu(x, p["alpha"])),
    ("elu_0.5", "Elu", {"alpha": 0.5}, lambda p: lambda x: tf.elu(x, p["alpha"])),
    ("gelu_none", "Gelu", {"approximate": "none"}, lambda p: lambda x: tf.gelu(x, approximate=p["approximate"])),
    ("gelu_tanh", "Gelu", {"approximate": "tanh"}, lambda p: lambda x: tf.gelu(x, approximate=p["approximate"])),
    ("sigmoid", "Sigmoid", {}, lambda p: lambda x: torch.sigmoid(x)),
    ("tanh", "Tanh", {}, lambda p: lambda x: torch.tanh(x)),
]

cases = []
for shape in [(1, 1), (1, 7), (3, 5, 7), (2, 3, 5, 5)]:
    # Spread over ±6 so the saturating tails of sigmoid, tanh and GELU are exercised.
    x = away_from_kink(randn(*shape, seed=1) * 2.5)
    for name, op, params, make in ELEMENTWISE:
        cases.append(case(f"{name}_{tag(shape)}", op, params, {"x": x}, make(params), seed=2))

for shape, dims in [((1, 1), [0, -1]), ((1, 7), [0, 1]), ((3, 5, 7), [0, 1, -1]), ((2, 3, 5, 5), [1, 2, -1]), ((4, 300), [0, -1]), ((2, 3, 300), [1])]:
    x = randn(*shape, seed=3) * 2
    for dim in dims:
        cases.append(case(f"softmax_{tag(shape)}_dim{dim}", "Softmax", {"dim": dim}, {"x": x}, lambda x, dim=dim: tf.softmax(x, dim), seed=4))
        cases.append(case(f"log_softmax_{tag(shape)}_dim{dim}", "LogSoftmax", {"dim": dim}, {"x": x}, lambda x, dim=dim: tf.log_softmax(x, dim), seed=4))

# Logits far from zero: a naive exp would overflow float32.
big = randn(3, 11, seed=5) * 30 + 500
cases.append(case("softmax_large_logits", "Softmax", {"dim": -1}, {"x": big}, lambda x: tf.softmax(x, -1)))
cases.append(case("log_softmax_large_logits", "LogSoftmax", {"dim": -1}, {"x": big}, lambda x: tf.log_softmax(x, -1)))
write("activations", cases)
