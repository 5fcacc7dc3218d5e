#!/usr/bin/env python3
"""The same-run peer of `starling bench online`: implicit's ALS updated incrementally.

MovieLens-1M's pairs (interactions_implicit.dat, items with events only) in a seeded random order
(numpy, seed 7: not the same permutation as Starling's, the same proportions); ALS fitted on the
first 90% (64 factors, regularization 50, alpha 6 = Starling's α 5, 10 iterations, CG 3 steps), then
the rest streamed in batches of --batch events: each batch's users are re-solved with
`partial_fit_users` and then its items with `partial_fit_items`, from their rows so far — the same
local re-solve as Starling's incremental iALS. Only those two calls are timed (the CSR rebuild per
batch is not), like Starling's `training_events_per_s`. Prints one JSON object.
"""
import argparse, json, os, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS (implicit asks for it)
import numpy as np
import scipy.sparse as sp

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.environ.get("STARLING_DATA", "../shared/datasets"))
    p.add_argument("--batch", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    from implicit.cpu.als import AlternatingLeastSquares
    with open(os.path.join(a.data, "ml-1m", "interactions_implicit.dat")) as f:
        pairs = np.array([line.strip().split("::")[:2] for line in f if line.strip()], dtype=np.int64)
    _, users = np.unique(pairs[:, 0], return_inverse=True)
    _, items = np.unique(pairs[:, 1], return_inverse=True)
    n_users, n_items = users.max() + 1, items.max() + 1
    order = np.random.default_rng(7).permutation(len(pairs))
    cut = int(len(order) * 0.9)
    def matrix(upto):
        e = order[:upto]
        return sp.csr_matrix((np.ones(len(e), dtype=np.float32), (users[e], items[e])), shape=(n_users, n_items))
    model = AlternatingLeastSquares(factors=64, regularization=50, alpha=6, iterations=10, use_cg=True,  # conjugate gradient, 3 steps (implicit's fixed default)
                                    num_threads=a.threads, random_state=42)
    start = time.perf_counter()
    model.fit(matrix(cut), show_progress=False)
    fit_seconds = time.perf_counter() - start
    timed = 0.0
    for lo in range(cut, len(order), a.batch):
        hi = min(len(order), lo + a.batch)
        m = matrix(hi)
        batch = order[lo:hi]
        touched_users = np.unique(users[batch])
        touched_items = np.unique(items[batch])
        mt = m.T.tocsr()
        t = time.perf_counter()
        model.partial_fit_users(touched_users, m[touched_users])
        model.partial_fit_items(touched_items, mt[touched_items])
        timed += time.perf_counter() - t
    streamed = len(order) - cut
    print(json.dumps({"peer": "implicit %s ALS partial_fit_users + partial_fit_items" % __import__("implicit").__version__,
                      "threads": a.threads, "batch": a.batch, "streamed_events": streamed,
                      "training_events_per_s": round(streamed / timed), "fit_seconds": round(fit_seconds, 2)}, indent=2))

if __name__ == "__main__":
    main()
