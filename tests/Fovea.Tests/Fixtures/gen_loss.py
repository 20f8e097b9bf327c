"""Reference values for F.CrossEntropy and F.Mse.
Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_loss.py"""
import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write

cases = []
# (logits shape, label smoothing, reduction): batch 1, prime class counts, spatial positions.
for shape, smoothing, reduction in [
    ((1, 7), 0.0, "mean"), ((1, 7), 0.1, "mean"), ((5, 11), 0.0, "sum"), ((5, 11), 0.1, "sum"),
    ((4, 13), 0.1, "none"), ((6, 3), 0.0, "none"), ((3, 2), 0.1, "mean"), ((8, 1), 0.0, "mean"),
    ((2, 5, 3), 0.0, "mean"), ((2, 5, 3), 0.1, "none"), ((1, 3, 2, 3), 0.1, "sum"),
]:
    logits = randn(*shape, seed=1) * 2
    targets = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=torch.Generator().manual_seed(2))
    name = f"cross_entropy_{'x'.join(map(str, shape))}_ls{smoothing}_{reduction}"
    cases.append(case(name, "CrossEntropy", {"label_smoothing": smoothing, "reduction": reduction},
                      {"logits": logits, "targets": targets},
                      lambda logits, targets, s=smoothing, r=reduction: tf.cross_entropy(logits, targets, label_smoothing=s, reduction=r)))

for shape in [(1,), (3, 5), (2, 3, 7)]:
    for reduction in ["mean", "sum", "none"]:
        cases.append(case(f"mse_{'x'.join(map(str, shape))}_{reduction}", "Mse", {"reduction": reduction},
                          {"input": randn(*shape, seed=3), "target": randn(*shape, seed=4)},
                          lambda input, target, r=reduction: tf.mse_loss(input, target, reduction=r)))
write("loss", cases)
