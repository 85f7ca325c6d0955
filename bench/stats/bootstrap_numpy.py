#!/usr/bin/env python3
"""The bootstrap of bench/stats/bootstrap.c in numpy: B resamples of the item indices, every
model's mean per resample (multinomial counts via bincount, then counts @ X.T), percentile
95% CI and the sd of the replicates. Usage: bootstrap_numpy.py MATRIX.csv [B]"""
import sys
import time

import numpy as np

X = np.loadtxt(sys.argv[1], delimiter=",")
B = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
M, N = X.shape
rng = np.random.default_rng(0)
t0 = time.perf_counter()
reps = np.empty((B, M))
chunk = 64
for s in range(0, B, chunk):
    k = min(chunk, B - s)
    idx = rng.integers(0, N, size=(k, N))
    counts = np.stack([np.bincount(r, minlength=N) for r in idx]).astype(np.float64)
    reps[s:s + k] = counts @ X.T / N
lo, hi = np.percentile(reps, [2.5, 97.5], axis=0)
se = reps.std(axis=0, ddof=1)
dt = time.perf_counter() - t0
print("numpy bootstrap: %d resamples in %.3f s (model 0: 95%% CI [%.4f, %.4f], bootstrap se %.5f)"
      % (B, dt, lo[0], hi[0], se[0]))
