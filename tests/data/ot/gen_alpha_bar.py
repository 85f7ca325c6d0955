#!/usr/bin/python3
"""Reference alpha-bar of the linear DDPM schedule for tests/ot/test_ot_io.c.

betas = numpy.linspace(1e-4, 0.02, 1000) (float64), alpha_bar = numpy.cumprod(1 - betas),
the form diffusers' DDPMScheduler uses (it builds them in float32; brisk uses float64).
Writes alpha_bar_linear.txt: one "level value" pair per line.
Run: /usr/bin/python3 tests/data/ot/gen_alpha_bar.py
"""
import os

import numpy as np

betas = np.linspace(1e-4, 0.02, 1000)
alpha_bar = np.cumprod(1.0 - betas)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alpha_bar_linear.txt")
with open(out, "w") as f:
    for t in (0, 1, 10, 100, 250, 499, 750, 998, 999):
        f.write("%d %.17g\n" % (t, alpha_bar[t]))
