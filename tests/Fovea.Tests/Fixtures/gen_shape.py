"""Reference values for F.Pad, F.Flatten, F.Reshape, F.Concat and the broadcasting F.Add/Sub/Mul/Div.
Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_shape.py"""
import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write


def normal(shape, seed):
    """randn that also makes 0-d tensors."""
    return randn(*(shape or (1,)), seed=seed).reshape(shape)


def away_from_zero(shape, seed):
    """Divisors in ±[0.5, …): finite differences of a/b stay accurate."""
    x = normal(shape, seed)
    return torch.sign(x) * (0.5 + x.abs())


cases = []

for name, shape, pads, value in [
    ("nchw_right_bottom", (2, 3, 4, 5), [1, 2, 0, 3], 0.0),
    ("nchw_negative_asymmetric", (1, 2, 5, 4), [-1, 2, 3, -2], 0.5),
    ("matrix_crop_left", (3, 4), [2, -1], -1.0),
    ("three_dims", (2, 3, 4), [1, 1, -1, 0, 0, 2], 0.0),
]:
    cases.append(case("pad_" + name, "Pad", {"pads": pads, "value": value}, {"x": randn(*shape, seed=len(cases))},
                      lambda x, pads=pads, value=value: tf.pad(x, pads, value=value)))

for start, end in [(1, -1), (0, 1), (2, 3), (0, -1)]:
    cases.append(case(f"flatten_{start}_{end}", "Flatten", {"start_dim": start, "end_dim": end}, {"x": randn(2, 3, 4, 5, seed=len(cases))},
                      lambda x, start=start, end=end: torch.flatten(x, start, end)))

for shape, new in [((2, 3, 4), [4, -1]), ((6,), [2, 1, 3]), ((1, 5), [-1])]:
    cases.append(case(f"reshape_{'x'.join(map(str, shape))}_to_{'x'.join(map(str, new))}", "Reshape", {"shape": new},
                      {"x": randn(*shape, seed=len(cases))}, lambda x, new=new: x.reshape(new)))

for name, shapes, axis in [
    ("channels", [(2, 1, 3, 4), (2, 3, 3, 4), (2, 2, 3, 4)], 1),
    ("rows", [(1, 3), (2, 3), (4, 3)], 0),
    ("last_negative_axis", [(2, 3, 1), (2, 3, 4), (2, 3, 2)], -1),
]:
    inputs = {f"x{i}": randn(*s, seed=len(cases) * 10 + i) for i, s in enumerate(shapes)}
    cases.append(case("concat_" + name, "Concat", {"axis": axis}, inputs,
                      lambda axis=axis, **xs: torch.cat([xs[k] for k in sorted(xs)], axis)))

ops = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}
for op, sa, sb in [
    ("Add", (2, 3, 4, 5), (3, 1, 1)),
    ("Mul", (1,), (2, 3)),
    ("Add", (2, 1, 5), (1, 4, 1)),
    ("Sub", (2, 3, 4, 5), (1, 3, 1, 1)),
    ("Mul", (2, 3, 4, 5), (3, 1, 1)),
    ("Mul", (3, 5), (3, 5)),
    ("Mul", (), (2, 3)),
    ("Div", (2, 3, 4), (4,)),
    ("Div", (3, 1), (1, 4)),
    ("Div", (2, 1, 5), (2, 4, 1)),
    ("Sub", (4, 1, 3), (2, 1)),
]:
    name = f"{op.lower()}_{'x'.join(map(str, sa)) or 'scalar'}_{'x'.join(map(str, sb)) or 'scalar'}"
    b = (away_from_zero if op == "Div" else normal)(sb, len(cases) * 10 + 1)
    cases.append(case(name, op, {}, {"a": normal(sa, len(cases) * 10), "b": b}, lambda a, b, f=ops[op]: f(a, b)))

cases.append(case("add_scalar", "AddScalar", {"c": 1.5}, {"x": randn(2, 3, seed=90)}, lambda x: x + 1.5))
cases.append(case("mul_scalar", "MulScalar", {"c": -2.5}, {"x": randn(2, 3, seed=91)}, lambda x: x * -2.5))

write("shape", cases)
