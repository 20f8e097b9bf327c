"""Shared helpers for the PyTorch fixture generators (run with Debian's /usr/bin/python3 and python3-torch).

Each generator script gen_<family>.py builds cases with `case(...)` and writes Fixtures/<family>.json with
`write(...)`. A case holds the op name, its parameters, the inputs, the output, a random upstream gradient
`grad_output`, and the gradients of sum(output * grad_output) with respect to every float input.
The C# side (Support/Fixture.cs) reads these files and replays each case through Fovea.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)  # references in double; Fovea computes in float32


def _tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def _ints(t):
    return {"shape": list(t.shape), "ints": [int(v) for v in t.reshape(-1).tolist()]}


def case(name, op, params, inputs, fn, seed=0):
    """inputs: dict name -> tensor (float tensors get gradients; integer tensors are passed as ints).
    fn(**inputs) -> output tensor. Float inputs are rounded to float32 first so both sides see the same values."""
    g = torch.Generator().manual_seed(seed)
    prepared = {}
    for k, v in inputs.items():
        if v.dtype.is_floating_point:
            prepared[k] = v.to(torch.float32).to(torch.float64).requires_grad_(True)
        else:
            prepared[k] = v
    out = fn(**prepared)
    grad_output = torch.randn(out.shape, generator=g).to(torch.float32).to(torch.float64)
    floats = [k for k, v in prepared.items() if v.dtype.is_floating_point]
    grads = torch.autograd.grad((out * grad_output).sum(), [prepared[k] for k in floats], allow_unused=True)
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: (_tensor(v) if v.dtype.is_floating_point else _ints(v)) for k, v in prepared.items()},
        "output": _tensor(out),
        "grad_output": _tensor(grad_output),
        "grads": {k: _tensor(gr if gr is not None else torch.zeros_like(prepared[k])) for k, gr in zip(floats, grads)},
    }


def write(family, cases):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), family + ".json")
    with open(path, "w") as f:
        json.dump({"generator": "gen_" + family + ".py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {path}")


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
