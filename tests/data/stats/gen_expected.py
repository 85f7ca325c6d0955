#!/usr/bin/python3
"""Fixtures and expected values for brisk's stats tests, computed with numpy/scipy.

Run from the repository root:  /usr/bin/python3 tests/data/stats/gen_expected.py
(needs Debian's python3-numpy and python3-scipy). It writes
  tests/data/stats/runs/...           synthetic lm-eval --log_samples JSONL fixtures
  tests/data/stats/runs/manifest.csv  their run manifest
  tests/data/stats/expected.json      expected statistics the C tests compare with
and, when ../shared/data (not copyable) is present, tests/data/stats/expected_opencompass.json
with aggregate statistics of the OpenCompass matrix for the optional test.
Everything here is independent code: numpy/scipy are the reference.
"""
import csv
import json
import math
import os
import sys

import numpy as np
from scipy import optimize, stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = {}


def nan_to_none(x):
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def clean(o):
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items()}
    if isinstance(o, np.ndarray):
        return [clean(v) for v in o.tolist()]
    if isinstance(o, (list, tuple)):
        return [clean(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return nan_to_none(float(o))
    if isinstance(o, np.integer):
        return int(o)
    return o


# ---------------------------------------------------------------- matrices

def item_stats(X):
    """X: (models, items). Means, lm-eval stderr, analytic CI, difficulty, item-rest r."""
    M, N = X.shape
    means = X.mean(axis=1)
    sd = X.std(axis=1, ddof=1)
    se = sd / np.sqrt(N)
    binary = np.isin(X, [0.0, 1.0]).all()
    ci = 1.96 * np.sqrt(means * (1 - means) / N) if binary else 1.96 * se
    total = X.sum(axis=1)
    disc = []
    for i in range(N):
        v = X[:, i]
        rest = total - v
        if np.all(v == v[0]) or np.all(rest == rest[0]):
            disc.append(float("nan"))
        else:
            disc.append(stats.pearsonr(v, rest)[0])
    disc = np.array(disc)
    # cross-check item-rest r with point-biserial on 0/1 items
    for i in range(min(N, 50)):
        if binary and not math.isnan(disc[i]):
            r2 = stats.pointbiserialr(X[:, i], total - X[:, i])[0]
            assert abs(r2 - disc[i]) < 1e-12
    return dict(means=means, stderr=se, ci95_half_width=ci, sd=sd,
                difficulty=X.mean(axis=0), discrimination=disc)


def read_chembench(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    names = rows[0][1:]
    Y = np.array([[float(v) for v in r[1:]] for r in rows[1:]])  # items x models
    return names, Y.T


def chembench():
    names, X = read_chembench(os.path.join(HERE, "chembench_subset.csv"))
    s = item_stats(X)
    n_low = int(np.sum(s["discrimination"] < 0.2))
    OUT["chembench_subset"] = dict(
        n_models=X.shape[0], n_items=X.shape[1], names=names,
        means=s["means"], stderr=s["stderr"], ci95_half_width=s["ci95_half_width"],
        sd=s["sd"], difficulty=s["difficulty"], discrimination=s["discrimination"],
        n_null=int(np.sum(np.isnan(s["discrimination"]))), n_low=n_low,
        mean_discrimination=float(np.nanmean(s["discrimination"])))
    # paired comparison of two rows (by name)
    a, b = X[names.index("GPT-4o")], X[names.index("Claude-3.5 (Sonnet)")]
    d = a - b
    se = d.std(ddof=1) / math.sqrt(len(d))
    OUT["chembench_compare"] = dict(a="GPT-4o", b="Claude-3.5 (Sonnet)", mean_diff=d.mean(),
                                    stderr=se, ci95=[d.mean() - 1.96 * se, d.mean() + 1.96 * se],
                                    correlation=stats.pearsonr(a, b)[0])
    # IRT reference on the first 60 items: joint MAP with the same weak priors
    OUT["irt"] = {}
    Xs = X[:, :60]
    for model in ("1pl", "2pl"):
        OUT["irt"][model] = irt_map(Xs, model)
    OUT["irt"]["n_items"] = 60


def irt_map(X, model, theta_sd=1.0, b_sd=3.0, a_mean=1.0, a_sd=1.0):
    M, N = X.shape

    def unpack(w):
        th = w[:M]
        b = w[M:M + N]
        a = w[M + N:] if model == "2pl" else np.ones(N)
        return th, a, b

    def negpost(w):
        th, a, b = unpack(w)
        z = np.outer(th, a) - b[None, :]
        ll = np.sum(X * z - np.logaddexp(0, z))
        lp = -0.5 * np.sum(th ** 2) / theta_sd ** 2 - 0.5 * np.sum(b ** 2) / b_sd ** 2
        if model == "2pl":
            lp -= 0.5 * np.sum((a - a_mean) ** 2) / a_sd ** 2
        p = 1 / (1 + np.exp(-z))
        r = X - p
        g_th = (r * a[None, :]).sum(axis=1) - th / theta_sd ** 2
        g_b = -r.sum(axis=0) - b / b_sd ** 2
        g = [g_th, g_b]
        if model == "2pl":
            g.append((r * th[:, None]).sum(axis=0) - (a - a_mean) / a_sd ** 2)
        return -(ll + lp), -np.concatenate(g)

    pm = np.clip(X.mean(axis=1), 0.01, 0.99)
    th0 = np.log(pm / (1 - pm))
    th0 -= th0.mean()
    pi = np.clip((X.sum(axis=0) + 0.5) / (M + 1), 0.01, 0.99)
    w0 = [th0, -np.log(pi / (1 - pi))]
    if model == "2pl":
        w0.append(np.ones(N))
    res = optimize.minimize(negpost, np.concatenate(w0), jac=True, method="L-BFGS-B",
                            options=dict(maxiter=20000, gtol=1e-12, ftol=1e-15, maxcor=50))
    th, a, b = unpack(res.x)
    z = np.outer(th, a) - b[None, :]
    ll = float(np.sum(X * z - np.logaddexp(0, z)))
    return dict(theta=th, a=a, b=b, log_posterior=-res.fun, log_lik=ll,
                grad_norm=float(np.abs(res.jac).max()))


# ---------------------------------------------------------------- lm-eval fixtures

CHOICES = [
    ["the sun", "the moon", "a lamp", "café lights"],
    ["water", "ice", "steam", "naïve rain"],
    ["a dog", "a cat", "a bird", "a fish"],
    ["north", "south", "east", "west"],
]


def make_doc(d, rng):
    choices = CHOICES[d % len(CHOICES)]
    gold = int(rng.integers(0, len(choices)))
    return dict(id="q%d" % d, question="Question %d?" % d, choices=choices, gold=gold)


def write_samples(path, docs, skill, rng, target_as_int=False):
    """One lm-eval 0.4 --log_samples file; returns per-doc metrics as computed by lm-eval."""
    rows, out = [], []
    for d, doc in enumerate(docs):
        ch = doc["choices"]
        lens = np.array([float(len(c)) for c in ch])  # Python len: code points
        ll = -0.4 * lens + rng.normal(0, 1.0, len(ch))
        ll[doc["gold"]] += skill + rng.normal(0, 0.5)
        acc = 1.0 if int(np.argmax(ll)) == doc["gold"] else 0.0
        acc_norm = 1.0 if int(np.argmax(ll / lens)) == doc["gold"] else 0.0
        e = np.exp(ll - ll.max())
        prob = e[doc["gold"]] / e.sum()
        ln = ll / lens
        e2 = np.exp(ln - ln.max())
        prob_norm = e2[doc["gold"]] / e2.sum()
        ctx = "Question: %s\nAnswer:" % doc["question"]
        rows.append({
            "doc_id": d,
            "doc": {"id": doc["id"], "question": doc["question"], "choices": {"text": ch}},
            "target": doc["gold"] if target_as_int else str(doc["gold"]),
            "arguments": {"gen_args_%d" % k: {"arg_0": ctx, "arg_1": " " + c} for k, c in enumerate(ch)},
            "resps": [[str((float(v), False))] for v in ll],
            "filtered_resps": [str((float(v), False)) for v in ll],
            "filter": "none",
            "metrics": ["acc", "acc_norm"],
            "doc_hash": "%064x" % (d + 1),
            "prompt_hash": "%064x" % (d + 7),
            "target_hash": "%064x" % (d + 13),
            "acc": acc,
            "acc_norm": acc_norm,
        })
        out.append(dict(acc=acc, acc_norm=acc_norm, prob=prob, prob_norm=prob_norm,
                        logprob=float(ll[doc["gold"]])))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def runs():
    rng = np.random.default_rng(20240601)
    n_docs = 30
    docs = [make_doc(d, rng) for d in range(n_docs)]
    steps = [1000, 2000, 3000, 4000]
    models = {"A": 0.6, "B": 0.3}
    manifest = [("file", "model", "seed", "step")]
    data = {}  # (model, seed, step) -> list of per-doc metric dicts
    for m, base in models.items():
        for seed in range(3):
            for k, step in enumerate(steps):
                skill = base + 0.5 * k + 0.3 * rng.normal()
                rel = "%s/seed%d/step%d/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl" % (m, seed, step)
                data[(m, seed, step)] = write_samples(os.path.join(HERE, "runs", rel), docs, skill, rng,
                                                      target_as_int=(m == "B" and seed == 2))
                manifest.append((rel, m, seed, step))
    with open(os.path.join(HERE, "runs", "manifest.csv"), "w") as f:
        csv.writer(f, lineterminator="\n").writerows(manifest)
    exp = {}
    for metric in ("acc", "acc_norm", "prob", "prob_norm", "logprob"):
        em = {}
        for m in models:
            V = np.array([[np.mean([d[metric] for d in data[(m, s, st)]]) for st in steps] for s in range(3)])
            SE = np.array([[np.std([d[metric] for d in data[(m, s, st)]], ddof=1) / math.sqrt(n_docs)
                            for st in steps] for s in range(3)])
            taus = [stats.kendalltau(steps, V[s])[0] for s in range(3)]  # tau-b
            seed_sd = float(np.mean(V.std(axis=0, ddof=1)))
            seed_sd0 = float(np.mean(V.std(axis=0, ddof=0)))
            fin = V[:, -1]
            em[m] = dict(values=V, stderr=SE, taus=taus, tau_mean=float(np.nanmean(taus)),
                         seed_sd=seed_sd, seed_sd_ddof0=seed_sd0, final_mean=fin.mean(),
                         final_sd=fin.std(ddof=1), snr=fin.mean() / fin.std(ddof=1))
        # paired comparison A vs B at the last step: items averaged over seeds
        ia = np.mean([[d[metric] for d in data[("A", s, steps[-1])]] for s in range(3)], axis=0)
        ib = np.mean([[d[metric] for d in data[("B", s, steps[-1])]] for s in range(3)], axis=0)
        dd = ia - ib
        se = dd.std(ddof=1) / math.sqrt(n_docs)
        em["compare"] = dict(mean_diff=dd.mean(), stderr=se, ci95=[dd.mean() - 1.96 * se, dd.mean() + 1.96 * se])
        exp[metric] = em
    # one file's per-doc derived metrics, for the reader test
    exp["doc_values"] = {k: [d[k] for d in data[("A", 0, 1000)]] for k in ("acc", "acc_norm", "prob", "prob_norm", "logprob")}
    exp["steps"] = steps
    OUT["runs"] = exp


def pythia():
    """Series and Kendall tau-b of the copied Pythia results files."""
    base = os.path.join(HERE, "pythia")
    out = {}
    for m in ("160m", "1.4b"):
        files = sorted((f for f in os.listdir(base) if f.startswith(m + "_step")),
                       key=lambda f: int(f.split("_step")[1].split(".")[0]))
        steps = [int(f.split("_step")[1].split(".")[0]) for f in files]
        res = [json.load(open(os.path.join(base, f)))["results"] for f in files]
        em = {"steps": steps}
        for task, metric in (("arc_easy", "acc"), ("piqa", "acc_norm"), ("lambada_openai", "ppl"),
                             ("lambada_openai", "acc")):
            v = [r[task][metric] for r in res]
            em["%s:%s" % (task, metric)] = dict(values=v, tau=stats.kendalltau(steps, v)[0])
        # lm-eval style group of hendrycksTest-* (MMLU): size-weighted mean, pooled stderr
        tasks = sorted(t for t in res[0] if t.startswith("hendrycksTest-"))
        gv, gs = [], []
        for r in res:
            p = np.array([r[t]["acc"] for t in tasks])
            se = np.array([r[t]["acc_stderr"] for t in tasks])
            n = np.round(p * (1 - p) / se ** 2 + 1)
            gv.append(float(np.sum(n * p) / n.sum()))
            gs.append(float(np.sqrt(np.sum((n - 1) * n * se ** 2) / (n.sum() - len(n)) / n.sum())))
        em["mmlu_group"] = dict(values=gv, stderr=gs, tau=stats.kendalltau(steps, gv)[0], n_tasks=len(tasks))
        out[m] = em
    OUT["pythia"] = out


def basics():
    rng = np.random.default_rng(7)
    x = rng.normal(size=37)
    y = np.round(rng.normal(size=37), 1)  # ties
    xt = np.round(x, 0)                    # many ties
    OUT["basic"] = dict(
        x=x, y=y, xt=xt,
        mean=x.mean(), sd1=x.std(ddof=1), sd0=x.std(ddof=0), stderr=x.std(ddof=1) / math.sqrt(len(x)),
        pearson=stats.pearsonr(x, y)[0],
        tau_b=stats.kendalltau(x, y)[0], tau_b_ties=stats.kendalltau(xt, y)[0],
        q025=np.quantile(x, 0.025), q975=np.quantile(x, 0.975), q50=np.quantile(x, 0.5),
        norm_ppf=[stats.norm.ppf(p) for p in (1e-10, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999999)],
        pooled=dict(se=[0.01, 0.02, 0.015], n=[100, 250, 80],
                    value=math.sqrt(sum((n - 1) * n * s * s for s, n in zip([0.01, 0.02, 0.015], [100, 250, 80]))
                                    / (430 - 3) / 430)))


def opencompass():
    path = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "eval-matrices", "opencompass_12x41871.csv")
    if not os.path.exists(path):
        print("opencompass: ../shared absent, skipped")
        return
    X = np.loadtxt(path, delimiter=",")
    s = item_stats(X)
    disc = s["discrimination"]
    d = X[0] - X[1]
    se = d.std(ddof=1) / math.sqrt(len(d))
    res = dict(n_models=X.shape[0], n_items=X.shape[1], means=s["means"], stderr=s["stderr"],
               ci95_half_width=s["ci95_half_width"], n_null=int(np.isnan(disc).sum()),
               n_low=int(np.sum(disc < 0.2)), mean_discrimination=float(np.nanmean(disc)),
               discrimination_at={str(i): disc[i] for i in (0, 295, 6806, 9806, 10004, 11323, 21365, 21529,
                                                            26529, 27029, 41071, 41870)},
               compare_0_1=dict(mean_diff=d.mean(), stderr=se))
    with open(os.path.join(HERE, "expected_opencompass.json"), "w") as f:
        json.dump(clean(res), f, indent=1)
    print("opencompass means:", np.round(s["means"], 6).tolist())
    print("opencompass stderr:", np.round(s["stderr"], 6).tolist())
    print("opencompass null/low discrimination:", res["n_null"], res["n_low"], "mean", res["mean_discrimination"])


if __name__ == "__main__":
    basics()
    chembench()
    runs()
    pythia()
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(clean(OUT), f, indent=1)
    opencompass()
    print("wrote", os.path.join(HERE, "expected.json"))
    for m in ("1pl", "2pl"):
        print("irt", m, "log posterior", OUT["irt"][m]["log_posterior"], "max |grad|", OUT["irt"][m]["grad_norm"])
