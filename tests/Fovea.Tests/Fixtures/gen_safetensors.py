"""Writes torch_written.safetensors the way PyTorch's safetensors.save_file lays it out, plus the expected
values in torch_written.json. Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_safetensors.py

The safetensors package cannot be installed here, so the file is assembled by hand with struct + json,
following the reference writer: tensors sorted by descending dtype (its enum order) then name, compact
JSON header with "__metadata__" first, padded with spaces to a multiple of 8, raw little-endian data.
Values are stored as bit patterns in the JSON so that infinities and exact roundings survive.
"""
import json

import torch

from safetensors_io import NAMES, save_file

BITS_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def f32(*bits):
    return torch.tensor(list(bits), dtype=torch.int64).to(torch.int32).view(torch.float32)


def bits(t):
    mask = (1 << (8 * t.element_size())) - 1
    return [int(v) & mask for v in t.contiguous().view(BITS_VIEW[t.dtype]).reshape(-1).tolist()]


g = torch.Generator().manual_seed(7)
# Halfway cases check ties-to-even; 0x7F7FFFFF overflows to infinity; tiny values go subnormal or to zero.
half_source = torch.cat([torch.tensor([1 + 2**-11, 1 + 3 * 2**-11, 65520.0, 65519.0, 6e-8, 1e-9, -2.5]),
                         torch.randn(5, generator=g)])
bf16_source = torch.cat([f32(0x3F808000, 0x3F818000, 0x3F808001, 0x7F7FFFFF, 0x00012345, 0xC0490FDB),
                         torch.randn(6, generator=g)])
tensors = {
    "conv.weight": torch.randn(2, 3, 3, generator=g),
    "conv.bias": torch.tensor([0.5, -1.25]),
    "head.weight": torch.randn(3, 4, generator=g).to(torch.float16),
    "half.values": half_source.to(torch.float16),
    "bf16.values": bf16_source.to(torch.bfloat16),
    "bn.num_batches_tracked": torch.tensor(1234567890123, dtype=torch.int64),
    "labels": torch.tensor([3, -1, 0, 9007199254740993], dtype=torch.int64),
    "empty": torch.zeros(0, 3),
}
metadata = {"format": "pt", "note": "written by gen_safetensors.py"}

order = save_file(tensors, "torch_written.safetensors", metadata)

expected = {"metadata": metadata, "order": order, "tensors": {}}
for name, t in tensors.items():
    e = {"dtype": NAMES[t.dtype], "shape": list(t.shape)}
    if t.dtype == torch.int64:
        e["ints"] = t.reshape(-1).tolist()
    else:
        e["bits"] = bits(t)
        e["float32_bits"] = bits(t.to(torch.float32))
    expected["tensors"][name] = e
expected["tensors"]["half.values"]["source_bits"] = bits(half_source)
expected["tensors"]["bf16.values"]["source_bits"] = bits(bf16_source)
with open("torch_written.json", "w") as f:
    json.dump(expected, f, indent=1)
