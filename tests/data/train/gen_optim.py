#!/usr/bin/python3
"""Reference trajectories of torch.optim.AdamW and torch.optim.SGD (PyTorch 1.13, CPU,
float32, single-tensor path) for tests/train/test_optim.c. Writes optim_torch.json.

Parameters are two tensors: a "weight" (24 floats) and a "bias" (13 floats), flattened in
that order. Unless a case sets decay_all, weight decay applies to the weight only (two
param groups). Per-step lr and momentum (beta1 for AdamW) are set in the param groups
before each step, as a scheduler would.
Run: /usr/bin/python3 tests/data/train/gen_optim.py
"""
import json
import os

import numpy as np
import torch

N_W, N_B, STEPS = 24, 13, 7


def make_inputs():
    rng = np.random.default_rng(1234)
    p0 = rng.standard_normal(N_W + N_B).astype(np.float32)
    grads = rng.standard_normal((STEPS, N_W + N_B)).astype(np.float32)
    grads[:, 3] = 0.0                                   # never gets a gradient
    grads[:, 5] *= np.float32(1e-9)                     # eps-dominated
    grads[2:, 7] = 0.0                                  # gradient stops
    grads[:, 30] *= np.float32(50.0)                    # large
    return p0, grads


def run(case, p0, grads):
    w = torch.nn.Parameter(torch.tensor(p0[:N_W]))
    b = torch.nn.Parameter(torch.tensor(p0[N_W:]))
    wd = case["weight_decay"]
    if case.get("decay_all"):
        groups = [{"params": [w, b], "weight_decay": wd}]
    else:
        groups = [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]
    if case["kind"] == "adamw":
        opt = torch.optim.AdamW(groups, lr=case["lr"][0], betas=(case["beta1"], case["beta2"]),
                                eps=case["eps"], foreach=False)
    else:
        opt = torch.optim.SGD(groups, lr=case["lr"][0], momentum=case["momentum"][0],
                              dampening=case["dampening"], nesterov=case["nesterov"],
                              foreach=False)
    out = []
    for k in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = case["lr"][k]
            if case["kind"] == "adamw":
                g["betas"] = (case["momentum"][k], case["beta2"])
            else:
                g["momentum"] = case["momentum"][k]
        w.grad = torch.tensor(grads[k, :N_W])
        b.grad = torch.tensor(grads[k, N_W:])
        opt.step()
        out.append(np.concatenate([w.detach().numpy(), b.detach().numpy()]).astype(np.float32))
    return out


def main():
    p0, grads = make_inputs()
    c = STEPS
    cases = [
        dict(name="adamw_default", kind="adamw", lr=[1e-3] * c, momentum=[0.9] * c,
             beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2),
        dict(name="adamw_schedule", kind="adamw", decay_all=True,
             lr=[0.05, 0.1, 0.08, 0.02, 0.3, 0.01, 0.001],
             momentum=[0.95, 0.93, 0.9, 0.88, 0.85, 0.9, 0.95],
             beta1=0.95, beta2=0.99, eps=1e-6, weight_decay=0.1),
        dict(name="sgd_plain", kind="sgd", lr=[0.1] * c, momentum=[0.0] * c, dampening=0.0,
             nesterov=False, weight_decay=0.0),
        dict(name="sgd_momentum", kind="sgd", lr=[0.05, 0.05, 0.1, 0.1, 0.02, 0.02, 0.01],
             momentum=[0.9] * c, dampening=0.1, nesterov=False, weight_decay=1e-2),
        dict(name="sgd_nesterov", kind="sgd", decay_all=True, lr=[0.03] * c,
             momentum=[0.9, 0.9, 0.85, 0.8, 0.85, 0.9, 0.95], dampening=0.0, nesterov=True,
             weight_decay=1e-3),
    ]
    doc = {"torch": torch.__version__, "n_weight": N_W, "n_bias": N_B, "steps": STEPS,
           "p0": [float(v) for v in p0], "grads": [[float(v) for v in r] for r in grads],
           "cases": []}
    for case in cases:
        traj = run(case, p0, grads)
        e = dict(case)
        e.setdefault("decay_all", False)
        e["params"] = [[float(v) for v in r] for r in traj]
        doc["cases"].append(e)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_torch.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
