"""Reference values for F.BatchNorm in training and evaluation. Each case's params hold the running
statistics before the call and, as running_mean_after / running_var_after, after it (PyTorch updates
them in place during training).
Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_norm.py"""
import math

import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write


def f32(t):
    return t.to(torch.float32).to(torch.float64)


cases = []
MOMENTUM, EPS = 0.1, 1e-5
for label, shape in [("nc", (4, 3)), ("nc_batch1", (1, 4)), ("nc_batch2_c1", (2, 1)), ("ncl", (3, 5, 7)), ("ncl_batch1", (1, 2, 9)),
                     ("nchw", (2, 3, 5, 5)), ("nchw_batch1", (1, 4, 3, 5)), ("nchw_odd", (3, 7, 5, 3))]:
    c = shape[1]
    # One value per channel cannot be normalised by its own statistics: batch 1 of [N, C] is eval only.
    for training in (True, False) if math.prod(shape[:1] + shape[2:]) > 1 else (False,):
        for variant in ("affine", "no_affine", "no_running") if label == "nchw" else ("affine",):
            x = randn(*shape, seed=1) * 1.5 + 0.5
            inputs = {"x": x}
            if variant != "no_affine":
                inputs["weight"] = randn(c, seed=2) * 0.5 + 1
                inputs["bias"] = randn(c, seed=3)
            running_mean = f32(randn(c, seed=4) * 0.3) if variant != "no_running" else None
            running_var = f32(torch.rand(c, generator=torch.Generator().manual_seed(5)) + 0.5) if variant != "no_running" else None
            params = {"training": training, "momentum": MOMENTUM, "eps": EPS}
            if running_mean is not None:
                params["running_mean"] = running_mean.tolist()
                params["running_var"] = running_var.tolist()
            after = {}

            def fn(x, weight=None, bias=None):
                m = running_mean.clone() if running_mean is not None else None
                v = running_var.clone() if running_var is not None else None
                # Without running statistics nn.BatchNorm normalises with batch statistics in eval too.
                y = tf.batch_norm(x, m, v, weight, bias, training=training or m is None, momentum=MOMENTUM, eps=EPS)
                after["mean"], after["var"] = m, v
                return y

            made = case(f"batch_norm_{label}_{variant}_{'train' if training else 'eval'}", "BatchNorm", params, inputs, fn)
            if running_mean is not None:
                params["running_mean_after"] = after["mean"].tolist()
                params["running_var_after"] = after["var"].tolist()
            cases.append(made)
write("norm", cases)
