"""Reference values for F.Conv2d and F.LocallyConnected2d. Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_conv.py

Params as the C# tests read them: kernel/stride/dilation are [h, w]; padding is [h, w] or "same"; groups an int.
The locally connected reference is the PyTorch community's formulation: unfold, then one matrix per
output position, weight [outH*outW, O, C*kH*kW], bias [O, outH, outW].
"""
import torch
import torch.nn.functional as tf

from fixturelib import case, randn, write


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def same_pads(kernel, dilation):
    """PyTorch's 'same': total dilation*(k-1) per axis, the odd pixel at the bottom/right; as F.pad's (left, right, top, bottom)."""
    (kh, kw), (dh, dw) = kernel, dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    return (tw // 2, tw - tw // 2, th // 2, th - th // 2)


cases = []

# name, x shape, weight shape, bias, stride, padding, dilation, groups
conv_cases = [
    ("pointwise_1x1", (2, 3, 5, 4), (4, 3, 1, 1), True, 1, 0, 1, 1),
    ("1x1_stride2_pad1", (1, 3, 7, 7), (2, 3, 1, 1), True, 2, 1, 1, 1),
    ("3x3_pad1_batch3", (3, 2, 8, 8), (4, 2, 3, 3), True, 1, 1, 1, 1),
    ("5x5_pad2_nobias", (1, 3, 9, 9), (2, 3, 5, 5), False, 1, 2, 1, 1),
    ("3x2_kernel_prime_7x11", (2, 2, 7, 11), (3, 2, 3, 2), True, 1, (1, 0), 1, 1),
    ("2x3_kernel_13x5_stride2", (1, 2, 13, 5), (3, 2, 2, 3), True, 2, 0, 1, 1),
    ("3x3_stride3_pad1", (2, 2, 11, 7), (2, 2, 3, 3), True, 3, 1, 1, 1),
    ("stride_2x3_pad_0x1", (1, 1, 13, 11), (2, 1, 3, 3), True, (2, 3), (0, 1), 1, 1),
    ("same_3x3", (2, 3, 7, 11), (4, 3, 3, 3), True, 1, "same", 1, 1),
    ("same_4x2_asymmetric", (1, 2, 7, 5), (3, 2, 4, 2), True, 1, "same", 1, 1),
    ("same_dilation2", (1, 2, 9, 7), (2, 2, 3, 3), False, 1, "same", 2, 1),
    ("dilation2_pad2", (2, 2, 11, 13), (3, 2, 3, 3), True, 1, 2, 2, 1),
    ("dilation_2x1_stride2", (1, 2, 11, 9), (2, 2, 3, 3), True, 2, 1, (2, 1), 1),
    ("groups2_pad1", (2, 4, 7, 7), (6, 2, 3, 3), True, 1, 1, 1, 2),
    ("depthwise_pad1_batch3", (3, 4, 7, 5), (4, 1, 3, 3), True, 1, 1, 1, 4),
    ("depthwise_multiplier2_stride2", (1, 3, 6, 6), (6, 1, 3, 3), False, 2, 1, 1, 3),
    ("kernel_equals_input", (2, 3, 5, 5), (4, 3, 5, 5), True, 1, 0, 1, 1),
]
for name, xs, ws, bias, stride, padding, dilation, groups in conv_cases:
    inputs = {"x": randn(*xs, seed=1), "weight": randn(*ws, seed=2)}
    if bias:
        inputs["bias"] = randn(ws[0], seed=3)
    params = {"stride": pair(stride), "padding": padding if padding == "same" else pair(padding),
              "dilation": pair(dilation), "groups": groups}
    cases.append(case("conv2d_" + name, "Conv2d", params, inputs,
                      lambda x, weight, bias=None, s=stride, p=padding, d=dilation, g=groups:
                      tf.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=g)))


def output_size(x_shape, kernel, stride, padding, dilation):
    """(outH, outW) of a window op; 'same' padding is applied by F.pad beforehand, so it counts as its pixels here."""
    pads = same_pads(kernel, dilation) if padding == "same" else (padding[1], padding[1], padding[0], padding[0])
    h, w = x_shape[2] + pads[2] + pads[3], x_shape[3] + pads[0] + pads[1]
    return ((h - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1, (w - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1)


def locally_connected(x, weight, bias, kernel, stride, padding, dilation):
    out_h, out_w = output_size(x.shape, kernel, stride, padding, dilation)
    if padding == "same":
        x = tf.pad(x, same_pads(kernel, dilation))
        padding = (0, 0)
    columns = tf.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)  # [N, C*kH*kW, L]
    y = torch.einsum("nkl,lok->nol", columns, weight).reshape(x.shape[0], weight.shape[1], out_h, out_w)
    return y if bias is None else y + bias


# name, x shape, out channels, bias, kernel, stride, padding, dilation
lc_cases = [
    ("3x3", (2, 2, 7, 6), 3, True, (3, 3), (1, 1), (0, 0), (1, 1)),
    ("2x3_stride2_pad1_nobias", (1, 3, 5, 7), 2, False, (2, 3), (2, 2), (1, 1), (1, 1)),
    ("3x3_dilation2_pad1_batch3", (3, 1, 8, 7), 2, True, (3, 3), (1, 1), (1, 1), (2, 2)),
    ("same_2x2_asymmetric", (2, 2, 5, 5), 2, True, (2, 2), (1, 1), "same", (1, 1)),
    ("1x1", (2, 3, 4, 3), 2, True, (1, 1), (1, 1), (0, 0), (1, 1)),
    ("stride3_prime_13x11", (1, 2, 13, 11), 3, True, (3, 2), (3, 3), (0, 1), (1, 1)),
]
for name, xs, out_channels, bias, kernel, stride, padding, dilation in lc_cases:
    x = randn(*xs, seed=4)
    out_h, out_w = output_size(xs, kernel, stride, padding, dilation)
    inputs = {"x": x, "weight": randn(out_h * out_w, out_channels, xs[1] * kernel[0] * kernel[1], seed=5)}
    if bias:
        inputs["bias"] = randn(out_channels, out_h, out_w, seed=6)
    params = {"kernel": list(kernel), "stride": list(stride), "padding": padding if padding == "same" else list(padding),
              "dilation": list(dilation)}
    cases.append(case("locally_connected2d_" + name, "LocallyConnected2d", params, inputs,
                      lambda x, weight, bias=None, k=kernel, s=stride, p=padding, d=dilation:
                      locally_connected(x, weight, bias, k, s, p, d)))

write("conv", cases)
