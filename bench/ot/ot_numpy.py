#!/usr/bin/python3
"""One Monte-Carlo iteration of the DPM-OT semi-discrete OT solver in numpy, for
bench/ot/iteration.c to time side by side with brisk's C implementation.

The same computation: M source samples x ~ N(0, I) in D dimensions (float32), scored
against N targets y_i with <x, y_i> + h_i, blocked (a block of samples times a block of
targets, one score block at a time), a running argmax per sample, and the cell counts.
The noise comes from numpy's Generator (not brisk's Philox), so counts differ from brisk's
by Monte-Carlo noise only.

    python3 bench/ot/ot_numpy.py --n 10000 --d 1024 --m 100000 [--bm 4096] [--bn 4096]

Prints "numpy: total T s rng R s ..." (the C benchmark parses that line).
"""
import argparse
import time

import numpy as np


def argmax_block(x, y, hc, bn):
    """Cell of each row of x: argmax_i <x, y_i> + hc_i, one (rows x bn) score block at a time."""
    nr = x.shape[0]
    best = np.full(nr, -np.inf, dtype=np.float32)
    best_idx = np.zeros(nr, dtype=np.int64)
    rows = np.arange(nr)
    for j0 in range(0, y.shape[0], bn):
        s = x @ y[j0:j0 + bn].T  # (nr, nb) scores of this block
        s += hc[j0:j0 + bn]
        j = s.argmax(axis=1)  # first maximum: lowest index on ties
        v = s[rows, j]
        better = v > best  # strict: the earlier block keeps ties
        best[better] = v[better]
        best_idx[better] = j[better] + j0
    return best_idx, best


def cells(y, h, m, rng, bm, bn):
    """Counts of M fresh source samples per cell, the mean best score, and RNG seconds."""
    n, d = y.shape
    hc = (h - h.mean()).astype(np.float32)
    counts = np.zeros(n, dtype=np.int64)
    total = 0.0
    t_rng = 0.0
    for r0 in range(0, m, bm):
        nr = min(bm, m - r0)
        t0 = time.perf_counter()
        x = rng.standard_normal((nr, d), dtype=np.float32)
        t_rng += time.perf_counter() - t0
        best_idx, best = argmax_block(x, y, hc, bn)
        counts += np.bincount(best_idx, minlength=n)
        total += float(best.sum(dtype=np.float64))
    return counts, total / m, t_rng


def check(paths, bn):
    """Compares brisk's cells (brisk ot assign --points X --out idx) with this code's."""
    y, h, x, idx = (np.load(p) for p in paths)
    mine, _ = argmax_block(x.astype(np.float32), y.astype(np.float32),
                           (h - h.mean()).astype(np.float32), bn)
    agree = int((mine == idx).sum())
    print("check: %d of %d cells agree with brisk" % (agree, len(idx)))
    return agree == len(idx)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--d", type=int, default=1024)
    ap.add_argument("--m", type=int, default=0, help="samples (default 10 N)")
    ap.add_argument("--bm", type=int, default=4096, help="samples per block")
    ap.add_argument("--bn", type=int, default=4096, help="targets per block")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", nargs=4, metavar=("Y", "H", "X", "IDX"),
                    help="compare with brisk's cells of points X (brisk ot assign --points X "
                         "--out IDX) instead of timing")
    a = ap.parse_args()
    if a.check:
        raise SystemExit(0 if check(a.check, a.bn) else 1)
    m = a.m or 10 * a.n
    rng = np.random.default_rng(a.seed)
    y = rng.standard_normal((a.n, a.d), dtype=np.float32)
    h = rng.standard_normal(a.n)
    t0 = time.perf_counter()
    counts, energy, t_rng = cells(y, h, m, rng, a.bm, a.bn)
    t = time.perf_counter() - t0
    flops = 2.0 * a.n * m * a.d
    assert counts.sum() == m
    print("numpy: total %.3f s rng %.3f s  N %d D %d M %d  %.1f GFLOP/s  empty %d  E %.4f  "
          "(numpy %s, blocks %d x %d)"
          % (t, t_rng, a.n, a.d, m, flops / t / 1e9, int((counts == 0).sum()), energy,
             np.__version__, a.bm, a.bn))


if __name__ == "__main__":
    main()
