"""Reference trajectories for Fovea.Optim. Run: cd tests/Fovea.Tests/Fixtures && /usr/bin/python3 gen_optim.py

fixturelib's case() describes one op call, so this script writes its own JSON (optim.json):
- "optimizers": per config, the initial parameters (a [3, 4] matrix and a [5] vector), five gradients
  per parameter (fixed, independent of the parameters) and the parameters after each step.
- "schedulers": per config, the optimizer's initial lr, the schedule's arguments and the lr it gives
  at steps 0..29 (step 0 is the rate set at construction).
Everything runs in float32, as a PyTorch user would train.
"""
import json
import os
import warnings

import torch

torch.set_default_dtype(torch.float32)
STEPS = 5
SCHEDULE_STEPS = 30


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def trajectory(name, kind, make, args):
    params = [randn(3, 4, seed=1).requires_grad_(True), randn(5, seed=2).requires_grad_(True)]
    initial = [tensor(p) for p in params]
    opt = make(params, **args)
    grads, after = [], []
    for step in range(STEPS):
        g = [randn(*p.shape, seed=100 + 10 * step + k) for k, p in enumerate(params)]
        for p, gk in zip(params, g):
            p.grad = gk.clone()
        opt.step()
        grads.append([tensor(gk) for gk in g])
        after.append([tensor(p) for p in params])
    return {"name": name, "type": kind, "args": args, "initial": initial, "grads": grads, "after": after}


def schedule(name, kind, lr, args, make):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    lrs = []
    for _ in range(SCHEDULE_STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"name": name, "type": kind, "lr": lr, "args": args, "lrs": lrs}


sgd = torch.optim.SGD
adam = torch.optim.Adam
adamw = torch.optim.AdamW
optimizers = [
    trajectory("sgd_plain", "SGD", sgd, {"lr": 0.1}),
    trajectory("sgd_momentum", "SGD", sgd, {"lr": 0.1, "momentum": 0.9}),
    trajectory("sgd_dampening", "SGD", sgd, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    trajectory("sgd_nesterov", "SGD", sgd, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    trajectory("sgd_weight_decay", "SGD", sgd, {"lr": 0.1, "weight_decay": 0.05}),
    trajectory("sgd_nesterov_weight_decay", "SGD", sgd, {"lr": 0.1, "momentum": 0.7, "weight_decay": 0.01, "nesterov": True}),
    trajectory("adam_default", "Adam", adam, {"lr": 1e-3}),
    trajectory("adam_betas", "Adam", adam, {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}),
    trajectory("adam_weight_decay", "Adam", adam, {"lr": 0.01, "weight_decay": 0.1}),
    trajectory("adam_amsgrad", "Adam", adam, {"lr": 0.01, "amsgrad": True}),
    trajectory("adam_amsgrad_weight_decay", "Adam", adam, {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}),
    trajectory("adamw_default", "AdamW", adamw, {"lr": 1e-3}),
    trajectory("adamw_strong_decay", "AdamW", adamw, {"lr": 0.01, "weight_decay": 0.5}),
    trajectory("adamw_amsgrad", "AdamW", adamw, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": [0.85, 0.95]}),
]

lr_scheduler = torch.optim.lr_scheduler
# SequentialLR restarts the inner schedule with step(0), which PyTorch 1.13 flags as deprecated.
warnings.filterwarnings("ignore", message="The epoch parameter")


def warmup(inner, steps, start_factor):
    """Fovea's LinearWarmup is PyTorch's LinearLR for the warm-up followed by the inner schedule."""
    def make(opt):
        first = lr_scheduler.LinearLR(opt, start_factor=start_factor, end_factor=1.0, total_iters=steps)
        return lr_scheduler.SequentialLR(opt, [first, inner(opt)], milestones=[steps])
    return make


schedulers = [
    schedule("steplr", "StepLR", 0.1, {"step_size": 7, "gamma": 0.5},
             lambda o: lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    schedule("steplr_default_gamma", "StepLR", 1.0, {"step_size": 10},
             lambda o: lr_scheduler.StepLR(o, step_size=10)),
    schedule("cosine", "CosineAnnealingLR", 0.1, {"t_max": 10},
             lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10)),
    schedule("cosine_eta_min", "CosineAnnealingLR", 0.05, {"t_max": 29, "eta_min": 0.001},
             lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=29, eta_min=0.001)),
    schedule("onecycle", "OneCycleLR", 0.1, {"max_lr": 0.5, "total_steps": 30},
             lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=30, cycle_momentum=False)),
    schedule("onecycle_linear", "OneCycleLR", 0.1,
             {"max_lr": 0.2, "total_steps": 40, "pct_start": 0.25, "anneal_strategy": "linear", "div_factor": 10.0, "final_div_factor": 100.0},
             lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=40, pct_start=0.25, anneal_strategy="linear",
                                               div_factor=10.0, final_div_factor=100.0, cycle_momentum=False)),
    schedule("warmup_cosine", "LinearWarmup", 0.1, {"warmup_steps": 5, "start_factor": 0.1, "inner": {"type": "CosineAnnealingLR", "t_max": 20}},
             warmup(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=20), 5, 0.1)),
    schedule("warmup_steplr", "LinearWarmup", 0.2, {"warmup_steps": 4, "start_factor": 0.25, "inner": {"type": "StepLR", "step_size": 6, "gamma": 0.3}},
             warmup(lambda o: lr_scheduler.StepLR(o, step_size=6, gamma=0.3), 4, 0.25)),
]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")
with open(path, "w") as f:
    json.dump({"generator": "gen_optim.py", "torch": torch.__version__, "optimizers": optimizers, "schedulers": schedulers},
              f, separators=(",", ":"))
print(f"wrote {len(optimizers)} optimizer and {len(schedulers)} scheduler cases to {path}")
