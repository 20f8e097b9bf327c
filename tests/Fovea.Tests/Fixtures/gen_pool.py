"""Reference values for F.MaxPool2d, F.AvgPool2d, F.AdaptiveAvgPool2d and F.GlobalAvgPool2d.
Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_pool.py"""
import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write


def distinct(*shape, seed=0):
    """Values 0.05 apart in random order: max pooling has no ties, and a ±0.01 finite-difference step changes no winner."""
    n = 1
    for d in shape:
        n *= d
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(torch.float64)
    return ((perm - n / 2) * 0.05).reshape(*shape)


def pair(v):
    return list(v) if isinstance(v, tuple) else [v, v]


cases = []

# (name, shape, kernel, stride (None = kernel), padding, dilation, ceil_mode)
for name, shape, k, s, p, d, ceil in [
    ("k1_batch1", (1, 1, 5, 5), 1, None, 0, 1, False),
    ("k2_odd", (2, 3, 7, 7), 2, None, 0, 1, False),
    ("k2_odd_ceil", (2, 3, 7, 7), 2, None, 0, 1, True),
    ("k3_s2_p1_prime", (1, 2, 11, 13), 3, 2, 1, 1, False),
    ("k3_s2_p1_ceil", (1, 2, 12, 11), 3, 2, 1, 1, True),
    ("k3_s1_p1_d2", (2, 2, 9, 10), 3, 1, 1, 2, False),
    ("k3_s2_p1_d2_ceil", (1, 1, 5, 7), 3, 2, 1, 2, True),
    ("k2_s2_p1_ceil_drops_last", (1, 1, 5, 5), 2, 2, 1, 1, True),
    ("k2x3_s1x2_p1x0", (1, 3, 10, 9), (2, 3), (1, 2), (1, 0), 1, False),
    ("k3_s2_stride_lt_kernel", (2, 1, 8, 9), 3, 2, 0, 1, False),
]:
    params = {"kernel": pair(k), "stride": pair(s if s is not None else k), "padding": pair(p), "dilation": pair(d), "ceil_mode": ceil}
    cases.append(case("max_" + name, "MaxPool2d", params, {"x": distinct(*shape, seed=len(cases))},
                      lambda x, k=k, s=s, p=p, d=d, ceil=ceil: tf.max_pool2d(x, k, s, p, d, ceil_mode=ceil)))

# (name, shape, kernel, stride, padding, ceil_mode, count_include_pad)
for name, shape, k, s, p, ceil, include in [
    ("k1_batch1", (1, 1, 5, 5), 1, None, 0, False, True),
    ("k2_odd", (2, 3, 7, 7), 2, None, 0, False, True),
    ("k3_s2_p1_include", (1, 2, 11, 13), 3, 2, 1, False, True),
    ("k3_s2_p1_exclude", (1, 2, 11, 13), 3, 2, 1, False, False),
    ("k3_s2_p1_ceil_include", (1, 2, 12, 11), 3, 2, 1, True, True),
    ("k3_s2_p1_ceil_exclude", (1, 2, 12, 11), 3, 2, 1, True, False),
    ("k2_s2_p1_ceil_drops_last", (1, 1, 5, 5), 2, 2, 1, True, True),
    ("k3_s2_ceil_overhang", (2, 1, 6, 7), 3, 2, 0, True, True),
    ("k3x2_s2x1_p1_exclude", (1, 2, 8, 7), (3, 2), (2, 1), (1, 1), False, False),
]:
    params = {"kernel": pair(k), "stride": pair(s if s is not None else k), "padding": pair(p), "ceil_mode": ceil, "count_include_pad": include}
    cases.append(case("avg_" + name, "AvgPool2d", params, {"x": randn(*shape, seed=len(cases))},
                      lambda x, k=k, s=s, p=p, ceil=ceil, include=include: tf.avg_pool2d(x, k, s, p, ceil, include)))

for name, shape, out in [
    ("7_to_3", (2, 3, 7, 7), (3, 3)),
    ("5_to_5", (1, 2, 5, 5), (5, 5)),
    ("13_to_4", (1, 1, 13, 13), (4, 4)),
    ("9x10_to_2x3", (2, 2, 9, 10), (2, 3)),
    ("3_to_5_upsample", (1, 1, 3, 3), (5, 5)),
    ("6_to_1", (2, 2, 6, 6), (1, 1)),
]:
    cases.append(case("adaptive_" + name, "AdaptiveAvgPool2d", {"output_size": list(out)}, {"x": randn(*shape, seed=len(cases))},
                      lambda x, out=out: tf.adaptive_avg_pool2d(x, out)))

for shape in [(2, 3, 5, 7), (1, 1, 1, 1)]:
    cases.append(case("global_" + "x".join(map(str, shape)), "GlobalAvgPool2d", {}, {"x": randn(*shape, seed=len(cases))},
                      lambda x: tf.adaptive_avg_pool2d(x, 1)))

write("pool", cases)
