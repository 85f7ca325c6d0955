#!/usr/bin/python3
"""Generates the feature fixtures of brisk's metrics tests and the values numpy/scipy
compute on them (run once with /usr/bin/python3; the output files are committed).

    /usr/bin/python3 tests/data/metrics/gen_expected.py

Writes, next to this script:
  real.npy, gen.npy   (N, D) float32 correlated Gaussian features (600 and 500 rows, D 32)
  probs.npy           (400, 10) float32 softmax probabilities
  real_stats/         mu.npy (D,) and sigma.npy (D, D) float64 of real.npy, as numpy
                      computes them (np.mean, np.cov ddof=1): tests brisk's stats loader
  expected.json       the reference values (see the keys below)

Reference computations follow the peers:
- FD as pytorch-fid's calculate_frechet_distance: scipy.linalg.sqrtm(sigma1 @ sigma2),
  real part, ||mu1-mu2||^2 + tr(s1) + tr(s2) - 2 tr(covmean); statistics in float64
  (np.cov(rowvar=False), ddof 1). pytorch-fid itself takes np.mean of float32 activations
  (a float32 mean); that variant is recorded too, as fd_pytorch_fid_f32_mean.
- KID as Binkowski et al. 2018 / torch-fidelity: polynomial kernel (x.y/d + 1)^3, unbiased
  MMD^2 per subset, mean and std (ddof 0) over subsets. The subsets are drawn exactly as
  brisk does (Philox4x32-10 words, partial Fisher-Yates), re-implemented below, so the
  C test can compare subset by subset.
- Precision/recall as Kynkaenniemi et al. 2019: radius = distance to the k-th nearest
  neighbour within the set (self excluded), a sample is inside if its distance to some
  point of the other set is <= that point's radius. float64, naive O(N^2).
- MMR(tau): fraction of rows with at least two probabilities >= tau.
- Class histogram of argmax against uniform: scipy.stats.chisquare, total variation,
  KL(freq || uniform) in nats.
"""
import json
import os

import numpy as np
import scipy.linalg
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
M32 = 0xFFFFFFFF


# ---- Philox4x32-10 (Salmon et al. SC'11), brisk's counter layout (src/core/rng.c) ----
def philox4x32(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        hi0, lo0 = p0 >> 32, p0 & M32
        hi1, lo1 = p1 >> 32, p1 & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = (k0 + 0x9E3779B9) & M32
        k1 = (k1 + 0xBB67AE85) & M32
    return [c0, c1, c2, c3]


assert philox4x32([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


def rand_u32(seed, sample, stream, n):
    out = []
    blk = 0
    while len(out) < n:
        out += philox4x32([blk, stream, sample & M32, sample >> 32], [seed & M32, seed >> 32])
        blk += 1
    return out[:n]


def stream(purpose, k):
    return ((purpose << 24) | (k & 0xFFFFFF)) & M32


BRISK_RNG_MC = 4
KID_STREAM_BASE = 0x100  # brisk: stream BRISK_STREAM(BRISK_RNG_MC, 0x100 + set), set 0 real, 1 gen


def kid_subset(seed, subset, which, n, m):
    w = rand_u32(seed, subset, stream(BRISK_RNG_MC, KID_STREAM_BASE + which), m)
    idx = list(range(n))
    for i in range(m):
        j = i + ((w[i] * (n - i)) >> 32)
        idx[i], idx[j] = idx[j], idx[i]
    return np.array(idx[:m])


# ---- metrics (float64) ----
def poly_kernel(x, y):
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


def mmd2_unbiased(x, y):
    n, m = len(x), len(y)
    kxx, kyy, kxy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2.0 * kxy.sum() / (n * m))


def fd_scipy(mu1, s1, mu2, s2):
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), float(np.trace(covmean))


def fd_eigh(mu1, s1, mu2, s2):
    l, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(l, 0, None))) @ v.T
    m = r @ s2 @ r
    e = np.linalg.eigvalsh((m + m.T) / 2)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(e, 0, None)).sum())


def sqdist(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def knn_radii2(x, k):
    d = sqdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def inside(query, ref, r2):
    d = sqdist(query, ref)
    rel = (d - r2[None, :]) / r2[None, :]
    best = rel.min(axis=1)
    return int((best <= 0).sum()), float(np.abs(best).min())


def main():
    rng = np.random.default_rng(20240607)
    D, N1, N2 = 32, 600, 500
    mu1 = 3.0 + rng.standard_normal(D)
    l1 = rng.standard_normal((D, D)) / np.sqrt(D) * np.linspace(0.3, 2.0, D)
    mu2 = mu1 + 0.25 * rng.standard_normal(D)
    l2 = l1 + 0.2 * rng.standard_normal((D, D)) / np.sqrt(D)
    real = (rng.standard_normal((N1, D)) @ l1 + mu1).astype(np.float32)
    gen = (rng.standard_normal((N2, D)) @ l2 + mu2).astype(np.float32)
    np.save(os.path.join(HERE, "real.npy"), real)
    np.save(os.path.join(HERE, "gen.npy"), gen)

    r64, g64 = real.astype(np.float64), gen.astype(np.float64)
    m1, s1 = r64.mean(axis=0), np.cov(r64, rowvar=False)
    m2, s2 = g64.mean(axis=0), np.cov(g64, rowvar=False)
    os.makedirs(os.path.join(HERE, "real_stats"), exist_ok=True)
    np.save(os.path.join(HERE, "real_stats", "mu.npy"), m1)
    np.save(os.path.join(HERE, "real_stats", "sigma.npy"), s1)

    fd, trs = fd_scipy(m1, s1, m2, s2)
    fd32, _ = fd_scipy(np.mean(real, axis=0), s1, np.mean(gen, axis=0), s2)
    fd_self, _ = fd_scipy(m1, s1, m1, s1)
    # rank-deficient case: 20 rows of real (N < D): sqrtm struggles, eigh with clipping does not
    rd = r64[:20]
    mrd, srd = rd.mean(axis=0), np.cov(rd, rowvar=False)
    exp = {
        "generator": "tests/data/metrics/gen_expected.py (numpy %s, scipy %s)" % (np.__version__, scipy.__version__),
        "dim": D, "n_real": N1, "n_gen": N2,
        "fd": fd, "fd_eigh_numpy": fd_eigh(m1, s1, m2, s2),
        "fd_pytorch_fid_f32_mean": fd32, "fd_self_scipy": fd_self,
        "fd_terms": {"mean_term": float(((m1 - m2) ** 2).sum()), "trace1": float(np.trace(s1)),
                     "trace2": float(np.trace(s2)), "trace_sqrt": trs},
        "fd_rank_deficient_first20_vs_gen_eigh": fd_eigh(mrd, srd, m2, s2),
        "mu_real_first": m1[:4].tolist(), "sigma_real_00_01_3131": [s1[0, 0], s1[0, 1], s1[31, 31]],
    }

    # KID: full-set unbiased MMD^2 (unequal sizes), equal-size full sets, and Philox subsets
    exp["mmd2_full"] = float(mmd2_unbiased(r64, g64))
    exp["mmd2_first500"] = float(mmd2_unbiased(r64[:500], g64))
    seed, nsub, m = 7, 10, 200
    vals = []
    for s in range(nsub):
        x = r64[kid_subset(seed, s, 0, N1, m)]
        y = g64[kid_subset(seed, s, 1, N2, m)]
        vals.append(float(mmd2_unbiased(x, y)))
    exp["kid"] = {"seed": seed, "num_subsets": nsub, "subset_size": m, "per_subset": vals,
                  "mean": float(np.mean(vals)), "std": float(np.std(vals))}
    exp["kid_subset0_real_first5"] = kid_subset(seed, 0, 0, N1, m)[:5].tolist()

    # precision / recall
    pr = {}
    for k in (3, 5):
        rr, rg = knn_radii2(r64, k), knn_radii2(g64, k)
        ng, marg_p = inside(g64, r64, rr)
        nr, marg_r = inside(r64, g64, rg)
        pr[str(k)] = {"n_gen_in_real": ng, "n_real_in_gen": nr, "precision": ng / N2, "recall": nr / N1,
                      "radius_real_first3": np.sqrt(rr[:3]).tolist(),
                      "min_relative_margin": min(marg_p, marg_r)}
    exp["precision_recall"] = pr

    # classifier summaries on softmax probabilities
    C, N = 10, 400
    logits = rng.standard_normal((N, C)) * 2.0
    logits[:, 0] += 1.0  # non-uniform class histogram
    logits[:40, 3] = logits[:40, 5] = 4.0  # forty mixed modes
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    np.save(os.path.join(HERE, "probs.npy"), p)
    p64 = p.astype(np.float64)
    taus = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    exp["mmr"] = {"taus": taus, "rates": [float(((p64 >= t).sum(axis=1) >= 2).mean()) for t in taus]}
    counts = np.bincount(p64.argmax(axis=1), minlength=C)
    f = counts / N
    chi = scipy.stats.chisquare(counts)
    nz = f[f > 0]
    exp["classes"] = {"counts": counts.tolist(), "chi2": float(chi.statistic), "chi2_p": float(chi.pvalue),
                      "tv": float(0.5 * np.abs(f - 1.0 / C).sum()), "kl": float((nz * np.log(nz * C)).sum())}

    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(exp, fh, indent=1)
        fh.write("\n")
    print(json.dumps({k: exp[k] for k in ("fd", "fd_eigh_numpy", "fd_pytorch_fid_f32_mean", "fd_self_scipy",
                                          "mmd2_full", "mmd2_first500")}, indent=1))
    print("kid", exp["kid"]["mean"], exp["kid"]["std"])
    print("pr", json.dumps(pr))
    print("mmr", exp["mmr"]["rates"], "classes", exp["classes"])


if __name__ == "__main__":
    main()
