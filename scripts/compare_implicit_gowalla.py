#!/usr/bin/env python3
"""iALS and BPR-MF on the LightGCN Gowalla split: Starling vs Python's `implicit`, same run.

Both sides train on `lightgcn-gowalla/gowalla/train.txt` (29,858 users x 40,981 items, 810,128
pairs) with the same factors, iterations and regularisation, on the same number of threads, and are
evaluated with the same protocol: **full ranking** over all items except the user's training items,
Recall@20 = hits / |test items| and NDCG@20 (IDCG over min(|test items|, 20)), averaged over the
29,858 test users (the LightGCN protocol). Fit time is the wall time of `fit` alone.

`--alphas` lists implicit's ALS alphas to try (tuned fairly: each side reports every alpha). implicit
0.7's confidence is alpha * value (its CG adds (c - 1) * y y^T per interaction), Starling's is
1 + alpha * value, so with the 0/1 values here Starling runs with alpha - 1: the same confidences.

Usage: scripts/compare_implicit_gowalla.py [--data DIR] [--threads 2] [--factors 64] [--iterations 15]
       [--seeds 42] [--alphas 1 10 40] [--bpr-iterations 100] [--learning-rates 0.01 0.05] [--skip-bpr] [--skip-als]
Needs: pip install implicit threadpoolctl numpy scipy; swift build -c release.
"""
import argparse, json, math, os, subprocess, sys, tempfile, time

import numpy as np
import scipy.sparse as sp


def load_split(root):
    d = os.path.join(root, "lightgcn-gowalla", "gowalla")
    def read(name):
        rows = []
        with open(os.path.join(d, name)) as f:
            for line in f:
                parts = line.split()
                if parts:
                    rows.append((int(parts[0]), [int(x) for x in parts[1:]]))
        return rows
    train, test = read("train.txt"), read("test.txt")
    n_users = max(u for u, _ in train + test) + 1
    n_items = max(max(items) for _, items in train + test if items) + 1
    def csr(rows):
        r = [u for u, items in rows for _ in items]
        c = [i for _, items in rows for i in items]
        return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n_users, n_items))
    return csr(train), csr(test)


def evaluate(recommend_ids, train, test, k=20):
    """Recall@k and NDCG@k (LightGCN definitions) over users with test items."""
    users = np.where(np.diff(test.indptr) > 0)[0]
    recall = ndcg = 0.0
    for start in range(0, len(users), 2048):
        block = users[start:start + 2048]
        ids = recommend_ids(block, k)
        for row, u in enumerate(block):
            truth = set(test.indices[test.indptr[u]:test.indptr[u + 1]])
            hits = [1.0 if i in truth else 0.0 for i in ids[row][:k]]
            recall += sum(hits) / len(truth)
            dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hits))
            idcg = sum(1 / math.log2(j + 2) for j in range(min(len(truth), k)))
            ndcg += dcg / idcg
    return recall / len(users), ndcg / len(users)


def run_implicit(kind, args, train, test, alpha=None, learning_rate=None):
    from threadpoolctl import threadpool_limits
    import implicit
    # implicit parallelises over rows itself and asks for a single-threaded BLAS (it warns otherwise).
    with threadpool_limits(limits=1, user_api="blas"):
        if kind == "als":
            model = implicit.cpu.als.AlternatingLeastSquares(
                factors=args.factors, regularization=args.regularization, alpha=alpha,
                iterations=args.iterations, num_threads=args.threads, random_state=args.seed)
        else:
            model = implicit.cpu.bpr.BayesianPersonalizedRanking(
                factors=args.factors, learning_rate=learning_rate, regularization=args.bpr_regularization,
                iterations=args.bpr_iterations, num_threads=args.threads, random_state=args.seed)
        t0 = time.perf_counter()
        model.fit(train, show_progress=False)
        fit_seconds = time.perf_counter() - t0

        def recommend_ids(users, k):
            ids, _ = model.recommend(users, train[users], N=k, filter_already_liked_items=True)
            return ids
        recall, ndcg = evaluate(recommend_ids, train, test)
    return {"engine": f"implicit {implicit.__version__}", "fit_seconds": round(fit_seconds, 2),
            "Recall@20": round(recall, 4), "NDCG@20": round(ndcg, 4)}


def run_starling(kind, args, alpha=None, learning_rate=None):
    binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "starling")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [binary, "train", "ials" if kind == "als" else "bpr", "--dataset", "lightgcn-gowalla", "--data", args.data,
               "--factors", str(args.factors), "--seed", str(args.seed), "--threads", str(args.threads),
               "--evaluation-threads", str(args.threads), "--k", "20",
               "--output", os.path.join(tmp, "model.safetensors"), "--report", report]
        if kind == "als":
            cmd += ["--iterations", str(args.iterations), "--regularization", str(args.regularization), "--alpha", str(alpha - 1)]
        else:
            cmd += ["--iterations", str(args.bpr_iterations), "--learning-rate", str(learning_rate),
                    "--regularization", str(args.bpr_regularization)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(report) as f:
            r = json.load(f)
    return {"engine": "starling", "fit_seconds": round(float(r["details"]["fit_seconds"]), 2),
            "Recall@20": round(r["metrics"]["Recall@20"], 4), "NDCG@20": round(r["metrics"]["NDCG@20"], 4)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("STARLING_DATA", "../shared/datasets"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--regularization", type=float, default=0.01)
    p.add_argument("--alphas", type=float, nargs="+", default=[1.0, 10.0, 40.0])
    p.add_argument("--bpr-iterations", type=int, default=100)
    p.add_argument("--learning-rates", type=float, nargs="+", default=[0.01, 0.05])
    p.add_argument("--bpr-regularization", type=float, default=0.01)
    p.add_argument("--seeds", type=int, nargs="+", default=[42])
    p.add_argument("--skip-als", action="store_true")
    p.add_argument("--skip-bpr", action="store_true")
    args = p.parse_args()
    train, test = load_split(args.data)
    print(f"Gowalla: {train.shape[0]} users x {train.shape[1]} items, {train.nnz} train, {test.nnz} test", file=sys.stderr)
    configs = []
    if not args.skip_als:
        configs += [("als", {"alpha": a}) for a in args.alphas]
    if not args.skip_bpr:
        configs += [("bpr", {"learning_rate": lr}) for lr in args.learning_rates]
    rows = []
    for seed in args.seeds:
        args.seed = seed
        for kind, setting in configs:
            for engine in ("starling", "implicit"):
                runner = run_starling if engine == "starling" else (lambda k, a, **kw: run_implicit(k, a, train, test, **kw))
                r = runner(kind, args, **setting)
                r.update({"model": "iALS" if kind == "als" else "BPR-MF", "seed": seed, **setting})
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    # Per setting, the mean over seeds of each engine, then Starling minus implicit.
    groups = {}
    for r in rows:
        key = (r["model"], r.get("alpha"), r.get("learning_rate"))
        groups.setdefault(key, {}).setdefault(r["engine"].split()[0], []).append(r)
    mean = lambda runs, field: sum(x[field] for x in runs) / len(runs)
    comparison = []
    for (model, alpha, lr), both in groups.items():
        if "starling" in both and "implicit" in both:
            s, i = both["starling"], both["implicit"]
            comparison.append({"model": model, "alpha": alpha, "learning_rate": lr, "seeds": len(s),
                               "starling_Recall@20": round(mean(s, "Recall@20"), 4), "implicit_Recall@20": round(mean(i, "Recall@20"), 4),
                               "starling_NDCG@20": round(mean(s, "NDCG@20"), 4), "implicit_NDCG@20": round(mean(i, "NDCG@20"), 4),
                               "recall_delta": round(mean(s, "Recall@20") - mean(i, "Recall@20"), 4),
                               "ndcg_delta": round(mean(s, "NDCG@20") - mean(i, "NDCG@20"), 4),
                               "starling_fit_seconds": round(mean(s, "fit_seconds"), 2), "implicit_fit_seconds": round(mean(i, "fit_seconds"), 2),
                               "fit_time_ratio_starling_over_implicit": round(mean(s, "fit_seconds") / mean(i, "fit_seconds"), 2)})
    print(json.dumps({"setup": vars(args), "protocol": "full ranking excluding training items, LightGCN Gowalla split, K=20",
                      "runs": rows, "comparison": comparison}, indent=2))


if __name__ == "__main__":
    main()
