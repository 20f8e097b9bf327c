"""State-dict interoperability fixtures between Fovea and PyTorch, for every zoo model.

Run after the C# side has written interop/fovea_<model>.safetensors and interop/fovea_<model>.io.safetensors:
  FOVEA_WRITE_FIXTURES=1 dotnet test tests/Fovea.Tests -c Release --filter InteropFixtureWriter
  cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_interop.py

For each model it writes
  interop/torch_<model>.safetensors     a PyTorch state dict (PyTorch's own initialisation, BN statistics randomised)
  interop/torch_<model>.io.safetensors  "input", "logits" (PyTorch's, eval mode, from that state dict) and
                                        "logits_from_fovea" (PyTorch's logits after loading Fovea's saved state dict
                                        with load_state_dict(strict=True) and running Fovea's input).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as tf

from safetensors_io import load_file, save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop")
# (channels, height, width) per model: small inputs keep the committed files small.
INPUTS = {"mlp": (1, 12, 12), "lenet5": (1, 12, 12), "cnn-small": (1, 12, 12), "cnn-tiny": (1, 12, 12),
          "lc-small": (1, 8, 8), "cnn-bn": (1, 12, 12), "resnet8": (3, 12, 12), "resnet20": (3, 12, 12)}


class LocallyConnected2d(nn.Module):
    """Fovea's layout: weight [outH*outW, out, in*k*k] (columns in unfold order), bias [out, outH, outW]."""

    def __init__(self, cin, cout, size, k, padding):
        super().__init__()
        self.k, self.padding = k, padding
        self.oh, self.ow = size[0] + 2 * padding - k + 1, size[1] + 2 * padding - k + 1
        fan_in = cin * k * k
        bound = 1 / fan_in ** 0.5
        self.weight = nn.Parameter(torch.empty(self.oh * self.ow, cout, fan_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(cout, self.oh, self.ow).uniform_(-bound, bound))

    def forward(self, x):
        cols = tf.unfold(x, self.k, padding=self.padding)  # [N, C*k*k, L]
        y = torch.einsum("nkl,lok->nol", cols, self.weight)
        return y.reshape(x.shape[0], -1, self.oh, self.ow) + self.bias


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = tf.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return tf.relu(h + (x if self.downsample is None else self.downsample(x)))


def with_head(c, h, w, features, hidden, classes=10):
    flat = nn.Sequential(*features)(torch.zeros(1, c, h, w)).numel()
    layers = list(features) + [nn.Flatten()]
    for width in hidden:
        layers += [nn.Linear(flat, width), nn.ReLU()]
        flat = width
    return nn.Sequential(*layers, nn.Linear(flat, classes))


def resnet(c, blocks):
    layers, cin = [nn.Conv2d(c, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for width in (16, 32, 64):
        for i in range(blocks):
            layers.append(BasicBlock(cin, width, 2 if i == 0 and width != 16 else 1))
            cin = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def zoo(name, c, h, w):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "lenet5":
        return with_head(c, h, w, [nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)], [120, 84])
    if name == "cnn-small":
        return with_head(c, h, w, [nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)], [128])
    if name == "cnn-tiny":
        return with_head(c, h, w, [nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)], [32])
    if name == "lc-small":
        return with_head(c, h, w, [LocallyConnected2d(c, 32, (h, w), 3, 1), nn.ReLU(), nn.MaxPool2d(2),
                                   LocallyConnected2d(32, 64, (h // 2, w // 2), 3, 1), nn.ReLU(), nn.MaxPool2d(2)], [128])
    if name == "cnn-bn":
        layers, cin = [], c
        for width in (32, 64):
            for _ in range(2):
                layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
                cin = width
            layers.append(nn.MaxPool2d(2))
        layers.append(nn.Dropout(0.25))
        flat = nn.Sequential(*layers).eval()(torch.zeros(1, c, h, w)).numel()
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(flat, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
    if name == "resnet8":
        return resnet(c, 1)
    if name == "resnet20":
        return resnet(c, 3)
    raise ValueError(name)


def randomise_batch_norm(model, g):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
                m.running_mean.uniform_(-0.5, 0.5, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.num_batches_tracked.fill_(7)


def main():
    for i, (name, (c, h, w)) in enumerate(INPUTS.items()):
        torch.manual_seed(100 + i)
        g = torch.Generator().manual_seed(200 + i)
        model = zoo(name, c, h, w).eval()
        randomise_batch_norm(model, g)
        x = torch.randn(2, c, h, w, generator=g)
        with torch.no_grad():
            logits = model(x)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(HERE, f"torch_{name}.safetensors"))

        fovea_state, _ = load_file(os.path.join(HERE, f"fovea_{name}.safetensors"))
        fovea_io, _ = load_file(os.path.join(HERE, f"fovea_{name}.io.safetensors"))
        from_fovea = zoo(name, c, h, w).eval()
        from_fovea.load_state_dict(fovea_state, strict=True)
        with torch.no_grad():
            logits_from_fovea = from_fovea(fovea_io["input"])
        save_file({"input": x, "logits": logits, "logits_from_fovea": logits_from_fovea},
                  os.path.join(HERE, f"torch_{name}.io.safetensors"))
        print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, |fovea logits - torch| = "
              f"{(logits_from_fovea - fovea_io['logits']).abs().max().item():.2e}")


if __name__ == "__main__":
    main()
