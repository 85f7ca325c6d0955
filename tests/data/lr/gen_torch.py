#!/usr/bin/env python3
"""Writes extra torch.optim.lr_scheduler reference cases (tests/data/lr/gen_*.json) in the
format of the shared LR vectors, by running PyTorch's own schedulers.

Run once with Debian's PyTorch 1.13 (python3-torch) from the repository root:
    /usr/bin/python3 tests/data/lr/gen_torch.py
The cases cover keyword combinations the shared vectors do not: defaults, repeated and
unsorted milestones, total_iters=0, periodic cosine through eta_min=0, warm restarts with
T_mult=3, CyclicLR exp_range / triangular without momentum cycling, OneCycleLR with
epochs*steps_per_epoch, pct_start=0, Adam/RMSprop, plateau in max/abs mode with cooldown
and eps, and SequentialLR/ChainedScheduler mixes whose children change the shared param
group (CyclicLR and OneCycleLR constructed as later children).
"""
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
OUT = os.path.dirname(os.path.abspath(__file__))


def make_optimizer(kind, base_lr, base_momentum):
    p = [torch.nn.Parameter(torch.zeros(1))]
    if kind == "sgd":
        return torch.optim.SGD(p, lr=base_lr, momentum=base_momentum)
    if kind == "adam":
        return torch.optim.Adam(p, lr=base_lr, betas=(base_momentum, 0.999))
    if kind == "adamw":
        return torch.optim.AdamW(p, lr=base_lr, betas=(base_momentum, 0.999))
    if kind == "rmsprop":
        return torch.optim.RMSprop(p, lr=base_lr, momentum=base_momentum)
    raise ValueError(kind)


def build(opt, spec):
    cls = getattr(S, spec["class"])
    kwargs = dict(spec.get("kwargs", {}))
    if spec["class"] == "SequentialLR":
        children = [build(opt, c) for c in spec["schedulers"]]
        return cls(opt, children, **kwargs)
    if spec["class"] == "ChainedScheduler":
        return cls([build(opt, c) for c in spec["schedulers"]])
    return cls(opt, **kwargs)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def case(name, spec, steps, optimizer="sgd", base_lr=0.1, base_momentum=0.9, metrics=None):
    opt = make_optimizer(optimizer, base_lr, base_momentum)
    sched = build(opt, spec)
    lrs, moms = [], []
    for k in range(steps):
        g = opt.param_groups[0]
        lrs.append(float(g["lr"]))
        moms.append(float(momentum_of(g)))
        if k + 1 == steps:
            break
        opt.step()
        if metrics is not None:
            sched.step(metrics[k])
        else:
            sched.step()
    doc = {
        "name": "gen_" + name,
        "source": "torch %s torch.optim.lr_scheduler (tests/data/lr/gen_torch.py)" % torch.__version__,
        "torch_scheduler": spec,
        "optimizer": optimizer,
        "base_lr": base_lr,
        "base_momentum": base_momentum,
        "steps": steps,
        "metrics": metrics,
        "lr": lrs,
        "momentum": moms,
    }
    with open(os.path.join(OUT, "gen_%s.json" % name), "w") as f:
        json.dump(doc, f)
        f.write("\n")


def C(cls, **kw):
    return {"class": cls, "kwargs": kw}


def main():
    case("step_7_0.5", C("StepLR", step_size=7, gamma=0.5), 40)
    case("step_1_adam", C("StepLR", step_size=1, gamma=0.9), 20, optimizer="adam")
    case("multistep_repeated", C("MultiStepLR", milestones=[3, 3, 8, 15], gamma=0.5), 20)
    case("multistep_unsorted", C("MultiStepLR", milestones=[20, 5, 10]), 25)
    case("constant_defaults", C("ConstantLR"), 12)
    case("constant_total0", C("ConstantLR", factor=0.5, total_iters=0), 8)
    case("linear_defaults", C("LinearLR"), 10)
    case("linear_decay_to_0", C("LinearLR", start_factor=1.0, end_factor=0.0, total_iters=10), 15)
    case("linear_half_quarter", C("LinearLR", start_factor=0.5, end_factor=0.25, total_iters=4), 8)
    case("exponential_adam", C("ExponentialLR", gamma=0.8), 30, optimizer="adam")
    case("polynomial_defaults", C("PolynomialLR"), 10)
    case("polynomial_sqrt", C("PolynomialLR", total_iters=20, power=0.5), 25)
    case("cosine_10_periodic", C("CosineAnnealingLR", T_max=10), 45)
    case("cosine_7_eta", C("CosineAnnealingLR", T_max=7, eta_min=0.01), 40, base_lr=0.5)
    case("warm_restarts_5", C("CosineAnnealingWarmRestarts", T_0=5), 23)
    case("warm_restarts_3_3", C("CosineAnnealingWarmRestarts", T_0=3, T_mult=3, eta_min=0.001), 50)
    case("cyclic_triangular", C("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5), 30)
    case("cyclic_exp_range",
         C("CyclicLR", base_lr=0.001, max_lr=0.01, step_size_up=4, step_size_down=6,
           mode="exp_range", gamma=0.99), 40)
    case("cyclic_adam_nomom",
         C("CyclicLR", base_lr=0.002, max_lr=0.02, step_size_up=3, mode="triangular2",
           cycle_momentum=False), 25, optimizer="adam")
    case("cyclic_list_momentum",
         C("CyclicLR", base_lr=[0.01], max_lr=[0.05], step_size_up=6, base_momentum=0.85,
           max_momentum=0.95), 30)
    case("onecycle_epochs_adam_nomom",
         C("OneCycleLR", max_lr=0.02, epochs=4, steps_per_epoch=10, cycle_momentum=False),
         40, optimizer="adam")
    case("onecycle_linear_adamw",
         C("OneCycleLR", max_lr=0.05, total_steps=50, pct_start=0.5, anneal_strategy="linear",
           div_factor=10.0, final_div_factor=100.0), 50, optimizer="adamw")
    case("onecycle_three_phase_cos_31",
         C("OneCycleLR", max_lr=0.1, total_steps=30, three_phase=True, base_momentum=0.8,
           max_momentum=0.9), 31)
    case("onecycle_pct0_rmsprop", C("OneCycleLR", max_lr=0.1, total_steps=20, pct_start=0.0), 20,
         optimizer="rmsprop")
    metrics = [1.0, 0.98, 0.99, 0.97, 0.97, 0.96, 0.96, 0.96, 0.96, 0.95, 0.95, 0.95, 0.95, 0.95,
               0.95, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9,
               0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    case("plateau_max_abs_cooldown",
         C("ReduceLROnPlateau", mode="max", factor=0.5, patience=2, threshold=0.01,
           threshold_mode="abs", cooldown=2, min_lr=0.01), 40, metrics=[-m for m in metrics])
    case("plateau_min_eps",
         C("ReduceLROnPlateau", factor=0.5, patience=1, eps=0.02, min_lr=[0.001]), 40,
         metrics=metrics)
    case("sequential_three",
         {"class": "SequentialLR", "kwargs": {"milestones": [4, 12]},
          "schedulers": [C("ConstantLR", factor=0.5, total_iters=3), C("ExponentialLR", gamma=0.9),
                         C("StepLR", step_size=5)]}, 25)
    case("sequential_linear_cyclic",
         {"class": "SequentialLR", "kwargs": {"milestones": [5]},
          "schedulers": [C("LinearLR", start_factor=0.1, total_iters=5),
                         C("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4)]}, 30)
    case("sequential_restarts_multistep",
         {"class": "SequentialLR", "kwargs": {"milestones": [6]},
          "schedulers": [C("CosineAnnealingWarmRestarts", T_0=4),
                         C("MultiStepLR", milestones=[2, 4])]}, 15)
    case("sequential_onecycle_constant",
         {"class": "SequentialLR", "kwargs": {"milestones": [10]},
          "schedulers": [C("OneCycleLR", max_lr=0.2, total_steps=20), C("ConstantLR", factor=0.5)]},
         25)
    case("sequential_milestone0",
         {"class": "SequentialLR", "kwargs": {"milestones": [0]},
          "schedulers": [C("ExponentialLR", gamma=0.5), C("StepLR", step_size=2)]}, 8)
    case("sequential_poly_cosine_eta",
         {"class": "SequentialLR", "kwargs": {"milestones": [3, 9]},
          "schedulers": [C("LinearLR", start_factor=0.25, total_iters=3),
                         C("PolynomialLR", total_iters=6, power=2.0),
                         C("CosineAnnealingLR", T_max=5, eta_min=0.001)]}, 25)
    case("sequential_exp_restarts",
         {"class": "SequentialLR", "kwargs": {"milestones": [4]},
          "schedulers": [C("ExponentialLR", gamma=0.7),
                         C("CosineAnnealingWarmRestarts", T_0=3, T_mult=2, eta_min=0.002)]}, 30)
    case("sequential_nested_first",
         {"class": "SequentialLR", "kwargs": {"milestones": [9]},
          "schedulers": [{"class": "SequentialLR", "kwargs": {"milestones": [3]},
                          "schedulers": [C("LinearLR", start_factor=0.2, total_iters=3),
                                         C("ExponentialLR", gamma=0.9)]},
                         C("StepLR", step_size=4, gamma=0.5)]}, 20)
    case("chained_constant_exponential",
         {"class": "ChainedScheduler", "kwargs": {},
          "schedulers": [C("ConstantLR", factor=0.1, total_iters=2), C("ExponentialLR", gamma=0.9)]},
         12)
    case("chained_linear_step",
         {"class": "ChainedScheduler", "kwargs": {},
          "schedulers": [C("LinearLR", start_factor=0.5, total_iters=4), C("StepLR", step_size=3)]},
         15)


if __name__ == "__main__":
    main()
