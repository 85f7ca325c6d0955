#!/usr/bin/env python3
"""Synthetic gradient-norm logs and the refined schedules expected from them, computed
with numpy and scipy.ndimage.median_filter following the refinement authors' smoothing
pipeline as REFERENCES.md section 5 describes it (own code, not the authors').

Run once from the repository root (Debian: python3-numpy python3-scipy):
    /usr/bin/python3 tests/data/lr/gen_refined.py
Writes, next to this script:
  synthetic_gnorm_brisk.csv   brisk training-log format: step,grad_norm_l2,grad_norm_l1
  synthetic_gnorm_wandb.csv   wandb export format: "Step","run - gnorm","..__MIN","..__MAX"
                              (with two inf rows, which the pipeline drops)
  tiny_gnorm.csv              40 values, for a pipeline whose end padding exceeds the data
  refined_synthetic_l2.json   verify case: wandb CSV, weights g^-2, the authors' pipeline
  refined_synthetic_l1.json   verify case: brisk CSV l1 column, weights g^-1, other widths
  refined_tiny_reflect.json   verify case: no resampling up, filter 25, pad 2*25 > 38 values
  refined_l2_777.txt          brisk_lr_refine of the wandb CSV for a 777-step run:
                              smoothed norms resampled to 777 points, then the closed form
"""
import json
import os

import numpy as np
from scipy.ndimage import median_filter

HERE = os.path.dirname(os.path.abspath(__file__))


def smooth(g, trim=2, min_len=10000, width=1001, pad_mult=2, resample_to=10000):
    g = np.asarray(g, dtype=np.float64)
    g = g[~np.isinf(g)]
    if trim:
        g = g[trim:-trim]
    n = len(g)
    if n < min_len:
        g = np.interp(np.linspace(0, 1.0, min_len), np.linspace(0, 1.0, n), g)
        n = min_len
    pad = pad_mult * width
    f = median_filter(np.pad(g, (0, pad), mode="reflect"), size=width, mode="nearest")
    if pad:
        f = f[:-pad]
    return np.interp(np.linspace(0, 1.0, resample_to), np.linspace(0, 1.0, n), f)


def closed_form(g, power):
    w = g ** (-float(power))
    tail = np.flip(np.cumsum(np.flip(w)))
    s = np.zeros(len(g))
    for t in range(len(g) - 1):
        s[t] = w[t] * tail[t + 1] / tail[-1]
    return s / np.max(s)


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    base = 0.4 + 1.6 * (1 - np.exp(-t / 120.0)) * (1 + 0.25 * np.sin(t / 400.0))
    base *= 1 + 0.5 * (t > 0.8 * n)  # a late rise, as runs often show near the end
    g = base * np.exp(0.15 * rng.standard_normal(n))
    spikes = rng.choice(n, size=12, replace=False)
    g[spikes] *= 8.0
    return g


def write_case(name, csv_name, weights, params, schedule, input_len):
    doc = {
        "name": name,
        "source": "tests/data/lr/gen_refined.py (numpy %s, scipy median_filter)" % np.__version__,
        "input_csv": csv_name,
        "weights": weights,
        "pipeline": {
            "drop_inf": True,
            "trim_each_end": params["trim"],
            "resample_if_shorter_than": params["min_len"],
            "median_filter_width": params["width"],
            "pad": "reflect, end only, %d*width" % params["pad_mult"],
            "resample_to": params["resample_to"],
            "normalise": "divide by max",
        },
        "input_len": input_len,
        "schedule": [float(v) for v in schedule],
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")


def main():
    n = 3000
    l2 = synthetic(n, 7)
    l1 = 25.0 * synthetic(n, 8)

    with open(os.path.join(HERE, "synthetic_gnorm_brisk.csv"), "w") as f:
        f.write("step,grad_norm_l2,grad_norm_l1\n")
        for i in range(n):
            f.write("%d,%r,%r\n" % (i, float(l2[i]), float(l1[i])))

    wl2 = l2.copy()
    wl2[100] = np.inf
    wl2[2500] = np.inf
    with open(os.path.join(HERE, "synthetic_gnorm_wandb.csv"), "w") as f:
        f.write('"Step","synthetic - gnorm","synthetic - gnorm__MIN","synthetic - gnorm__MAX"\n')
        for i in range(n):
            v = "inf" if np.isinf(wl2[i]) else repr(float(wl2[i]))
            f.write('"%d","%s","%s","%s"\n' % (i, v, v, v))

    tiny = synthetic(40, 9)
    with open(os.path.join(HERE, "tiny_gnorm.csv"), "w") as f:
        f.write("step,grad_norm_l2,grad_norm_l1\n")
        for i in range(40):
            f.write("%d,%r,%r\n" % (i, float(tiny[i]), float(tiny[i]) * 3))

    authors = dict(trim=2, min_len=10000, width=2 * (int(0.1 * 10000) // 2) + 1, pad_mult=2,
                   resample_to=10000)
    sm = smooth(wl2, **authors)
    write_case("refined_synthetic_l2", "synthetic_gnorm_wandb.csv", "g^-2", authors,
               closed_form(sm, 2), n)

    other = dict(trim=3, min_len=4000, width=201, pad_mult=2, resample_to=1500)
    write_case("refined_synthetic_l1", "synthetic_gnorm_brisk.csv", "g^-1", other,
               closed_form(smooth(l1, **other), 1), n)

    small = dict(trim=1, min_len=0, width=25, pad_mult=2, resample_to=50)
    write_case("refined_tiny_reflect", "tiny_gnorm.csv", "g^-2", small,
               closed_form(smooth(tiny, **small), 2), 40)

    steps = 777
    r = np.interp(np.linspace(0, 1.0, steps), np.linspace(0, 1.0, len(sm)), sm)
    with open(os.path.join(HERE, "refined_l2_777.txt"), "w") as f:
        for v in closed_form(r, 2):
            f.write("%r\n" % float(v))


if __name__ == "__main__":
    main()
