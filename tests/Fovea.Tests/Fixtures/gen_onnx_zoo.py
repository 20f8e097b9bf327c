"""Writes onnx_zoo/<name>/: small torchvision-style CNNs exported by Debian's python3-torch 1.13 /
python3-torchvision 0.14, each with one test data set in the ONNX backend-test layout
(model.onnx, test_data_set_0/input_0.pb, output_0.pb), which Fovea's importer must reproduce.

Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_onnx_zoo.py

Widths are reduced so the four models stay well under 10 MB together; the structure (residual
blocks, inverted residuals with ReLU6, fire modules with ceil-mode pooling, plain VGG stacks) is
torchvision's. BatchNorm statistics are randomised so that evaluation mode matters. Each model is
exported at a different opset, with a dynamic batch dimension.
"""
import os
import struct

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet

torch.manual_seed(20261125)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_zoo")


def resnet18_style():
    """torchvision's ResNet with ResNet-18's [2, 2, 2, 2] BasicBlocks, stem and widths divided by 4."""
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=10)

    def shrink(module):
        # Rebuild every conv/bn/linear with a quarter of the channels (3 input channels stay 3).
        for name, child in module.named_children():
            if isinstance(child, nn.Conv2d):
                cin = child.in_channels if child.in_channels == 3 else child.in_channels // 4
                setattr(module, name, nn.Conv2d(cin, child.out_channels // 4, child.kernel_size, child.stride, child.padding, bias=child.bias is not None))
            elif isinstance(child, nn.BatchNorm2d):
                setattr(module, name, nn.BatchNorm2d(child.num_features // 4))
            elif isinstance(child, nn.Linear):
                setattr(module, name, nn.Linear(child.in_features // 4, child.out_features))
            else:
                shrink(child)

    shrink(model)
    return model


def mobilenet_v2_style():
    return torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)


def squeezenet_style():
    return torchvision.models.squeezenet1_1(num_classes=10)


class VggStyle(nn.Module):
    """torchvision's VGG layer builder (conv3×3-BN-ReLU stacks and 2×2 max pools) with VGG-11's pattern at an
    eighth of the width; the classifier input is flattened with x.view(x.size(0), -1), as older torchvision
    did, so the export carries the Shape→Gather→Unsqueeze→Concat→Reshape glue."""

    def __init__(self):
        super().__init__()
        cfg = [8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"]
        self.features = torchvision.models.vgg.make_layers(cfg, batch_norm=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Linear(64, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 10))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


def vgg_style():
    return VggStyle()


# (name, builder, opset, input shape, keep BatchNormalization nodes rather than folding them into the convs)
MODELS = [
    ("resnet18_style", resnet18_style, 11, (3, 3, 32, 32), False),
    ("mobilenet_v2_style", mobilenet_v2_style, 13, (3, 3, 32, 32), True),
    ("squeezenet_style", squeezenet_style, 9, (3, 3, 48, 48), False),
    ("vgg_style", vgg_style, 17, (3, 3, 32, 32), True),
]


def randomise_batch_norm(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tensor_proto(t):
    """A TensorProto (dims 1, data_type 2 = FLOAT, raw_data 9) as the backend tests store inputs and outputs."""
    t = t.detach().to(torch.float32).contiguous()
    body = b"".join(b"\x08" + varint(d) for d in t.shape) + b"\x10\x01"
    raw = struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist())
    return body + b"\x4a" + varint(len(raw)) + raw


def main():
    for name, build, opset, shape, keep_bn in MODELS:
        model = build()
        randomise_batch_norm(model)
        model.eval()
        x = torch.randn(shape)
        with torch.no_grad():
            y = model(x)
        folder = os.path.join(HERE, name)
        os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
        torch.onnx.export(model, x, os.path.join(folder, "model.onnx"), opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          do_constant_folding=False,
                          # PRESERVE on a model in eval mode skips the exporter's conv-BN fusion.
                          training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
        with open(os.path.join(folder, "test_data_set_0", "input_0.pb"), "wb") as f:
            f.write(tensor_proto(x))
        with open(os.path.join(folder, "test_data_set_0", "output_0.pb"), "wb") as f:
            f.write(tensor_proto(y))
        print(name, "opset", opset, "params", sum(p.numel() for p in model.parameters()),
              "bytes", os.path.getsize(os.path.join(folder, "model.onnx")))


if __name__ == "__main__":
    main()
