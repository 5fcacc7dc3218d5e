#!/usr/bin/env python3
"""LightGCN (He et al., SIGIR 2020) on the LightGCN Gowalla split: Starling vs PyTorch, same
machine, same run: seconds per epoch, and Recall@20 / NDCG@20 reached per epoch and within a
wall-clock budget.

Data: `lightgcn-gowalla/gowalla/train.txt` and `test.txt` under --data (29,858 users x 40,981
items, 810,128 training pairs, 217,242 test pairs; one line per user: `user item item ...`).

The PyTorch side mirrors gusye1234/LightGCN-PyTorch (the authors' PyTorch code) with its default,
the paper's, configuration:

  graph       Â = D^-1/2 A D^-1/2 of the (users + items) bipartite adjacency A = [[0, R], [Rᵀ, 0]]
              (zero-degree rows stay zero), a coalesced float32 torch sparse tensor (COO as the
              official code, or CSR with --sparse-layout csr)
  model       E⁰ = [user; item] tables (dim 64, init N(0, 0.1²)), E^(k+1) = Â E^k, 3 layers,
              final E = mean(E⁰, E¹, E², E³); score(u, i) = E_u · E_i
  sampling    per epoch, as UniformSample_original: 810,128 (user, positive, negative) triples, the
              user uniform over the users with a training item, the positive uniform among that
              user's training items, the negative uniform over all items, redrawn while it is one of
              the user's positives; then shuffled
  batches     2,048 triples in order, the last partial batch included (810,128 → 395 full + 1 of
              1,152 = 396 batches; the official `len // 2048 + 1` is the same 396 here)
  step        every batch recomputes the full propagation (as getEmbedding → computer() does), then
              loss = mean softplus(s_neg − s_pos) + 1e-4 · ½ (‖E⁰_u‖² + ‖E⁰_pos‖² + ‖E⁰_neg‖²) / batch
              (the regulariser over the batch's layer-0 rows), dense torch.optim.Adam over both
              tables (lr 0.001, betas 0.9/0.999, eps 1e-8, no weight_decay), no dropout
  loss        an epoch's loss is the mean of its batch losses (the official aver_loss)

Timing. An epoch's training seconds are the wall time of its batches (index slicing, forward:
propagation + loss, backward, optimizer step; also reported split); its sampling seconds (the
triples and their shuffle) are timed apart. Evaluation is never inside either. "elapsed" is the
running sum of training + sampling seconds: the clock --budget-seconds counts.

Evaluation (the LightGCN protocol): full ranking of all items for every user with test items, the
user's training items excluded (score −inf), top 20; Recall@20 = hits / |test items|, NDCG@20 =
Σ hit_j / log2(j + 2) over the top 20 divided by the ideal DCG over min(|test items|, 20)
positions; both averaged over the test users (29,858). Scored in blocks of 1,000 users.

Schedule. --epochs E trains E epochs. --budget-seconds S starts epochs while less than S seconds of
training + sampling have been used (the last one finishes, so "elapsed" may pass S), up to --epochs
(default then: 1000, the official code's). --eval-every N evaluates after every N-th epoch; the last
epoch is always evaluated. Each PyTorch epoch prints one JSON line on stderr:
  {"epoch", "train_seconds", "sample_seconds", "loss", "elapsed"[, "recall@20", "ndcg@20", "eval_seconds"]}

Starling runs first (unless --torch-only) as
  $STARLING_BIN bench lightgcn --data DIR --epochs E --threads T --seed S [--budget-seconds S] [--eval-every N]
with the same configuration, expected to print progress on stderr and one JSON object on stdout with
at least "engine", "model", "epochs" (a list of {"epoch", "seconds", "loss"[, "recall@20",
"ndcg@20"]}) and "seconds_per_epoch" (mean training seconds per epoch, sampling excluded, as here).
The final JSON (stdout) holds both engines, "ratio_seconds_per_epoch" = PyTorch / Starling (above 1:
Starling is faster) and each engine's last Recall@20 / NDCG@20.

Run on an otherwise idle machine: a busy core slows PyTorch's OpenMP threads far more than
Starling's. Each engine's JSON has "machine": the CPU seconds other processes took during its run
(other_cpu_seconds, steal_seconds); trust runs where those are near zero.

Usage: STARLING_BIN=.build/release/starling scripts/bench_lightgcn_vs_pytorch.py
           [--epochs 2] [--budget-seconds S] [--eval-every N] [--threads 2] [--seed 42] [--data DIR]
       scripts/bench_lightgcn_vs_pytorch.py --torch-only [--max-batches N] ...
--max-batches N (with --torch-only, for smoke tests) stops each epoch after N batches; 0 trains
nothing, so the evaluation is the untrained model's.
Needs: pip install torch numpy scipy; a release build of starling (swift build -c release), or
STARLING_BIN pointing at one.
"""
import argparse, json, math, os, subprocess, sys, time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_support import MachineLoad, default_data

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CONFIG = {"dim": 64, "layers": 3, "learning_rate": 0.001, "decay": 1e-4, "batch_size": 2048, "init_std": 0.1,
          "dropout": False, "k": 20}
OFFICIAL_EPOCHS = 1000  # gusye1234/LightGCN-PyTorch's default --epochs: the cap under --budget-seconds


# ---------------------------------------------------------------------------- data

class Gowalla:
    """The split as CSR user × item matrices, plus sorted (user · n_items + item) keys for lookups."""

    def __init__(self, root):
        d = os.path.join(root, "lightgcn-gowalla", "gowalla")
        train, test = self._read(os.path.join(d, "train.txt")), self._read(os.path.join(d, "test.txt"))
        # As the official loader: ids run up to the largest seen in either file.
        self.n_users = max(u for u, _ in train + test) + 1
        self.n_items = max(max(items) for _, items in train + test if items) + 1
        self.train, self.test = self._csr(train), self._csr(test)
        self.train_keys = self._keys(self.train)
        self.test_keys = self._keys(self.test)
        self.train_degree = np.diff(self.train.indptr)
        self.active_users = np.flatnonzero(self.train_degree > 0)  # the sampler draws users from these
        self.test_users = np.flatnonzero(np.diff(self.test.indptr) > 0)

    @staticmethod
    def _read(path):
        rows = []
        with open(path) as f:
            for line in f:
                parts = line.split()
                if parts:
                    rows.append((int(parts[0]), [int(x) for x in parts[1:]]))
        return rows

    def _csr(self, rows):
        r = np.fromiter((u for u, items in rows for _ in items), np.int64)
        c = np.fromiter((i for _, items in rows for i in items), np.int64)
        m = sp.csr_matrix((np.ones(r.shape[0], np.float32), (r, c)), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        m.sort_indices()
        return m

    def _keys(self, m):
        rows = np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(m.indptr))
        return rows * self.n_items + m.indices.astype(np.int64)  # ascending: CSR rows, sorted columns

    def normalized_graph(self, layout):
        """Â = D^-1/2 A D^-1/2 over users then items, as a coalesced float32 torch sparse tensor."""
        a = sp.bmat([[None, self.train], [self.train.T, None]], format="csr", dtype=np.float32)
        degree = np.asarray(a.sum(axis=1)).ravel()
        with np.errstate(divide="ignore"):
            d = np.power(degree, -0.5)
        d[np.isinf(d)] = 0.0
        norm = (sp.diags(d) @ a @ sp.diags(d)).tocsr().astype(np.float32)
        norm.sort_indices()
        if layout == "csr":
            return torch.sparse_csr_tensor(torch.from_numpy(norm.indptr.astype(np.int64)),
                                           torch.from_numpy(norm.indices.astype(np.int64)),
                                           torch.from_numpy(norm.data), size=norm.shape, check_invariants=False)
        coo = norm.tocoo()
        index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        return torch.sparse_coo_tensor(index, torch.from_numpy(coo.data), size=norm.shape,
                                       check_invariants=False).coalesce()


def contains(sorted_keys, keys):
    """Whether each of keys is in sorted_keys."""
    pos = np.searchsorted(sorted_keys, keys)
    return sorted_keys[np.minimum(pos, sorted_keys.shape[0] - 1)] == keys


def sample_epoch(data, rng):
    """UniformSample_original, vectorised: trainDataSize (user, positive, negative) triples, shuffled."""
    n = data.train.nnz
    users = data.active_users[rng.integers(0, data.active_users.shape[0], size=n)]
    positives = data.train.indices[data.train.indptr[users] + rng.integers(0, data.train_degree[users])].astype(np.int64)
    negatives = rng.integers(0, data.n_items, size=n)
    redraw = np.flatnonzero(contains(data.train_keys, users * data.n_items + negatives))
    while redraw.shape[0] > 0:  # rejection: redraw exactly the negatives that are positives of their user
        negatives[redraw] = rng.integers(0, data.n_items, size=redraw.shape[0])
        redraw = redraw[contains(data.train_keys, users[redraw] * data.n_items + negatives[redraw])]
    order = rng.permutation(n)  # utils.shuffle
    return (torch.from_numpy(users[order]), torch.from_numpy(positives[order]), torch.from_numpy(negatives[order]))


# ---------------------------------------------------------------------------- model

class LightGCN(nn.Module):
    def __init__(self, n_users, n_items, graph, dim, layers, init_std):
        super().__init__()
        self.n_users, self.n_items, self.graph, self.layers = n_users, n_items, graph, layers
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user.weight, std=init_std)
        nn.init.normal_(self.item.weight, std=init_std)

    def propagate(self):
        """computer(): the mean of E⁰ … E^L, split into users and items."""
        e = torch.cat([self.user.weight, self.item.weight])
        layers = [e]
        for _ in range(self.layers):
            e = torch.sparse.mm(self.graph, e)
            layers.append(e)
        final = torch.stack(layers, dim=1).mean(dim=1)
        return torch.split(final, [self.n_users, self.n_items])

    def bpr_loss(self, users, positives, negatives, decay):
        all_users, all_items = self.propagate()
        u, p, n = all_users[users], all_items[positives], all_items[negatives]
        u0, p0, n0 = self.user(users), self.item(positives), self.item(negatives)
        reg = 0.5 * (u0.norm(2).pow(2) + p0.norm(2).pow(2) + n0.norm(2).pow(2)) / float(users.shape[0])
        pos_scores, neg_scores = (u * p).sum(dim=1), (u * n).sum(dim=1)
        return torch.mean(F.softplus(neg_scores - pos_scores)) + decay * reg


# ---------------------------------------------------------------------------- metrics

@torch.no_grad()
def evaluate(model, data, k, block=1000):
    """Recall@k and NDCG@k (LightGCN definitions), full ranking without training items, over test users."""
    all_users, all_items = model.propagate()
    items_t = all_items.t().contiguous()
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)  # ideal[m - 1]: IDCG with m relevant items
    recall = ndcg = 0.0
    for s in range(0, data.test_users.shape[0], block):
        users = data.test_users[s:s + block]
        scores = all_users[torch.from_numpy(users)] @ items_t
        seen = data.train[users]
        rows = np.repeat(np.arange(users.shape[0]), np.diff(seen.indptr))
        scores[torch.from_numpy(rows), torch.from_numpy(seen.indices.astype(np.int64))] = -math.inf
        top = torch.topk(scores, k, dim=1).indices.numpy().astype(np.int64)
        hits = contains(data.test_keys, users[:, None].astype(np.int64) * data.n_items + top).astype(np.float64)
        relevant = np.diff(data.test.indptr)[users]
        recall += float((hits.sum(axis=1) / relevant).sum())
        ndcg += float(((hits * discounts).sum(axis=1) / ideal[np.minimum(relevant, k) - 1]).sum())
    n = data.test_users.shape[0]
    return recall / n, ndcg / n


# ---------------------------------------------------------------------------- runs

def run_torch(args, data):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    graph = data.normalized_graph(args.sparse_layout)
    model = LightGCN(data.n_users, data.n_items, graph, CONFIG["dim"], CONFIG["layers"], CONFIG["init_std"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
    bs, decay, k = CONFIG["batch_size"], CONFIG["decay"], CONFIG["k"]
    clock = time.perf_counter
    epochs, used = [], 0.0
    totals = {"forward_seconds": 0.0, "backward_seconds": 0.0, "optimizer_seconds": 0.0, "batches": 0}

    def evaluate_into(record):
        t0 = clock()
        recall, ndcg = evaluate(model, data, k)
        record.update({f"recall@{k}": round(recall, 5), f"ndcg@{k}": round(ndcg, 5), "eval_seconds": round(clock() - t0, 2)})

    while len(epochs) < args.epochs and (args.budget_seconds is None or used < args.budget_seconds):
        epoch = len(epochs) + 1
        t0 = clock()
        users, positives, negatives = sample_epoch(data, rng)
        sample_seconds = clock() - t0
        starts = range(0, users.shape[0], bs)
        if args.max_batches is not None:
            starts = starts[:args.max_batches]
        model.train()
        loss_sum, forward, backward, step = 0.0, 0.0, 0.0, 0.0
        epoch_start = clock()
        for s in starts:
            t0 = clock()
            loss = model.bpr_loss(users[s:s + bs], positives[s:s + bs], negatives[s:s + bs], decay)
            t1 = clock()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            t2 = clock()
            optimizer.step()
            t3 = clock()
            loss_sum += loss.item()
            forward, backward, step = forward + t1 - t0, backward + t2 - t1, step + t3 - t2
        train_seconds = clock() - epoch_start
        used += sample_seconds + train_seconds
        totals["forward_seconds"] += forward
        totals["backward_seconds"] += backward
        totals["optimizer_seconds"] += step
        totals["batches"] += len(starts)
        record = {"epoch": epoch, "train_seconds": round(train_seconds, 3), "sample_seconds": round(sample_seconds, 3),
                  "loss": round(loss_sum / len(starts), 5) if len(starts) else None, "elapsed": round(used, 2),
                  "batches": len(starts)}
        last = epoch == args.epochs or (args.budget_seconds is not None and used >= args.budget_seconds)
        if last or (args.eval_every and epoch % args.eval_every == 0):
            evaluate_into(record)
        epochs.append(record)
        print(json.dumps(record), file=sys.stderr, flush=True)

    train_total = sum(e["train_seconds"] for e in epochs)
    sample_total = sum(e["sample_seconds"] for e in epochs)
    n = max(len(epochs), 1)
    result = {"engine": f"pytorch {torch.__version__} (torch.sparse.mm {args.sparse_layout.upper()} + dense Adam)",
              "model": "LightGCN", "epochs": epochs,
              "seconds_per_epoch": round(train_total / n, 3),
              "sample_seconds_per_epoch": round(sample_total / n, 3),
              "seconds_per_batch": round(train_total / totals["batches"], 4) if totals["batches"] else None,
              "batches_per_epoch": math.ceil(data.train.nnz / bs),
              "train_seconds": round(train_total, 3), "sample_seconds": round(sample_total, 3),
              "elapsed": round(used, 2),
              **{key: round(value, 3) for key, value in totals.items() if key.endswith("_seconds")},
              "parameters": sum(p.numel() for p in model.parameters()), "graph_nonzeros": int(graph._nnz())}
    return result


def run_starling(args):
    binary = os.environ.get("STARLING_BIN") or os.path.join(REPO, ".build", "release", "starling")
    cmd = [binary, "bench", "lightgcn", "--data", args.data, "--epochs", str(args.epochs),
           "--threads", str(args.threads), "--seed", str(args.seed)]
    if args.budget_seconds is not None:
        cmd += ["--budget-seconds", f"{args.budget_seconds:g}"]
    if args.eval_every:
        cmd += ["--eval-every", str(args.eval_every)]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)


def last_metrics(report, k):
    """The last evaluated epoch's Recall@k / NDCG@k of an engine's report."""
    evaluated = [e for e in report.get("epochs", []) if f"recall@{k}" in e]
    if not evaluated:
        return {f"recall@{k}": None, f"ndcg@{k}": None, "at_epoch": None}
    e = evaluated[-1]
    return {f"recall@{k}": e[f"recall@{k}"], f"ndcg@{k}": e.get(f"ndcg@{k}"), "at_epoch": e["epoch"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, help=f"epochs to train (default: 2; with --budget-seconds, at most {OFFICIAL_EPOCHS})")
    p.add_argument("--budget-seconds", type=float, help="start epochs while less than this much training + sampling time is used")
    p.add_argument("--eval-every", type=int, default=0, help="evaluate after every N-th epoch (the last is always evaluated)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default=default_data(), help="datasets folder (default: $STARLING_DATA, then /work/shared/datasets or ../shared/datasets)")
    p.add_argument("--sparse-layout", choices=["coo", "csr"], default="coo", help="PyTorch's Â layout (default: coo, as the official code)")
    p.add_argument("--torch-only", action="store_true", help="skip Starling")
    p.add_argument("--max-batches", type=int, help="with --torch-only: stop each epoch after N batches (smoke tests)")
    args = p.parse_args()
    if args.epochs is None:
        args.epochs = OFFICIAL_EPOCHS if args.budget_seconds is not None else 2
    if args.max_batches is not None and not args.torch_only:
        p.error("--max-batches truncates only PyTorch's epochs: use it with --torch-only")

    data = Gowalla(args.data)
    print(f"Gowalla: {data.n_users} users x {data.n_items} items, {data.train.nnz} train, {data.test.nnz} test, "
          f"{data.test_users.shape[0]} test users", file=sys.stderr, flush=True)
    result = {"model": "LightGCN", "dataset": "lightgcn-gowalla", **CONFIG, "epochs_requested": args.epochs,
              "budget_seconds": args.budget_seconds, "eval_every": args.eval_every, "threads": args.threads,
              "seed": args.seed, "max_batches": args.max_batches,
              "data": {"users": data.n_users, "items": data.n_items, "train": data.train.nnz, "test": data.test.nnz,
                       "test_users": int(data.test_users.shape[0]), "sampled_users": int(data.active_users.shape[0])},
              "protocol": "full ranking excluding training items, LightGCN Gowalla split, K=20",
              "torch_version": torch.__version__, "cores": os.cpu_count(),
              "load_average_before": round(os.getloadavg()[0], 2)}
    k = CONFIG["k"]
    if not args.torch_only:
        with MachineLoad() as load:
            result["starling"] = run_starling(args)
        result["starling"]["machine"] = load.report
    with MachineLoad() as load:
        result["pytorch"] = run_torch(args, data)
    result["pytorch"]["machine"] = load.report
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    engines = [e for e in ("starling", "pytorch") if e in result]
    result["last_metrics"] = {e: last_metrics(result[e], k) for e in engines}
    if "starling" in result and result["starling"].get("seconds_per_epoch"):
        result["ratio_seconds_per_epoch"] = round(result["pytorch"]["seconds_per_epoch"] / result["starling"]["seconds_per_epoch"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
