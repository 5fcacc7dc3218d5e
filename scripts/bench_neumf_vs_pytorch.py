#!/usr/bin/env python3
"""NeuMF training throughput and accuracy: Starling vs PyTorch, same architecture, same run.

Both train NeuMF (GMF + MLP, predictive factors F, L MLP layers halving down to F) on the NCF
MovieLens-1M split (ncf-ml-1m/ml-1m.train.pairs), 4 sampled negatives per positive, batch 256,
Adam lr 0.001, binary cross-entropy, for E epochs, then evaluate with the NCF protocol (held-out
item ranked among its 99 given negatives; HR@10, NDCG@10).

Throughput counts training steps only (forward, backward, optimizer); negative sampling is
timed separately on both sides.

PyTorch runs twice: (a) the usual dense nn.Embedding + torch.optim.Adam, and (b) sparse
embedding gradients + torch.optim.SparseAdam for the tables (lazy row updates, the same
algorithm Starling uses) + Adam for the dense layers.

Usage: scripts/bench_neumf_vs_pytorch.py [--data DIR] [--epochs 1] [--threads 2] [--factors 32]
Needs: pip install torch numpy; a release build of starling (swift build -c release).
"""
import argparse, json, math, os, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn


def load_split(root):
    d = os.path.join(root, "ncf-ml-1m")
    train = np.loadtxt(os.path.join(d, "ml-1m.train.pairs"), dtype=np.int64, delimiter="\t")[:, :2]
    test, negatives = [], []
    with open(os.path.join(d, "ml-1m.test.negative")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            u, i = parts[0].strip("()").split(",")
            test.append((int(u), int(i)))
            negatives.append([int(x) for x in parts[1:]])
    n_users = int(max(train[:, 0].max(), max(u for u, _ in test))) + 1
    n_items = int(max(train[:, 1].max(), max(i for _, i in test), max(max(n) for n in negatives))) + 1
    return train, test, negatives, n_users, n_items


def sample_epoch(train, n_items, num_neg, rng):
    """Positives followed by num_neg uniform negatives each (never a training positive), shuffled."""
    keys = np.sort(train[:, 0] * n_items + train[:, 1])
    users = np.repeat(train[:, 0], num_neg)
    items = rng.integers(0, n_items, size=users.shape[0])
    while True:
        k = users * n_items + items
        pos = np.searchsorted(keys, k)
        hit = (pos < keys.shape[0]) & (keys[np.minimum(pos, keys.shape[0] - 1)] == k)
        if not hit.any():
            break
        items[hit] = rng.integers(0, n_items, size=int(hit.sum()))
    u = np.concatenate([train[:, 0], users])
    i = np.concatenate([train[:, 1], items])
    y = np.concatenate([np.ones(train.shape[0], np.float32), np.zeros(users.shape[0], np.float32)])
    perm = rng.permutation(u.shape[0])
    return u[perm], i[perm], y[perm]


class NeuMF(nn.Module):
    def __init__(self, n_users, n_items, factors, layers, sparse):
        super().__init__()
        width = factors * 2 ** (layers - 1)
        self.gmf_user = nn.Embedding(n_users, factors, sparse=sparse)
        self.gmf_item = nn.Embedding(n_items, factors, sparse=sparse)
        self.mlp_user = nn.Embedding(n_users, width, sparse=sparse)
        self.mlp_item = nn.Embedding(n_items, width, sparse=sparse)
        mods = []
        for k in range(layers):
            mods += [nn.Linear(factors * 2 ** (layers - k), factors * 2 ** (layers - k - 1)), nn.ReLU()]
        self.mlp = nn.Sequential(*mods)
        self.prediction = nn.Linear(2 * factors, 1)
        for e in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(e.weight, std=0.01)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.kaiming_uniform_(self.prediction.weight, a=1, nonlinearity="sigmoid")
        nn.init.zeros_(self.prediction.bias)

    def forward(self, u, i):
        gmf = self.gmf_user(u) * self.gmf_item(i)
        mlp = self.mlp(torch.cat([self.mlp_user(u), self.mlp_item(i)], dim=1))
        return self.prediction(torch.cat([gmf, mlp], dim=1)).view(-1)


def evaluate(model, test, negatives, k=10, device="cpu"):
    """NCF protocol: the held-out item against its 99 given negatives (duplicates of the held-out
    item among them dropped, as NCF's dict-based ranking does); ties count against the item."""
    model.eval()
    users, items, mask = [], [], []
    for (u, gt), negs in zip(test, negatives):
        cands = [gt] + [n if n != gt else -1 for n in negs]
        users.append([u] * len(cands))
        items.append([max(c, 0) for c in cands])
        mask.append([c >= 0 for c in cands])
    with torch.no_grad():
        u = torch.tensor(users, device=device)
        i = torch.tensor(items, device=device)
        scores = model(u.view(-1), i.view(-1)).view(u.shape)
        valid = torch.tensor(mask, device=device)
        above = ((scores[:, 1:] >= scores[:, :1]) & valid[:, 1:]).sum(dim=1)
        hit = (above < k).float()
        ndcg = hit / torch.log2(above.float() + 2)
    model.train()
    return float(hit.mean()), float(ndcg.mean())


def run_torch(args, split, sparse):
    train, test, negatives, n_users, n_items = split
    device = args.device
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = NeuMF(n_users, n_items, args.factors, args.layers, sparse).to(device)
    tables = [model.gmf_user.weight, model.gmf_item.weight, model.mlp_user.weight, model.mlp_item.weight]
    if sparse:
        dense = [p for p in model.parameters() if all(p is not t for t in tables)]
        optimizers = [torch.optim.SparseAdam(tables, lr=args.lr), torch.optim.Adam(dense, lr=args.lr)]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=args.lr)]
    loss_fn = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(args.seed)
    step_seconds = sampling_seconds = 0.0
    samples = 0
    losses = []
    curve = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        u, i, y = sample_epoch(train, n_items, 4, rng)
        u, i, y = torch.from_numpy(u).to(device), torch.from_numpy(i).to(device), torch.from_numpy(y).to(device)
        sampling_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        total = 0.0
        for s in range(0, u.shape[0], args.batch_size):
            bu, bi, by = u[s:s + args.batch_size], i[s:s + args.batch_size], y[s:s + args.batch_size]
            for o in optimizers:
                o.zero_grad(set_to_none=True)
            loss = loss_fn(model(bu, bi), by)
            loss.backward()
            for o in optimizers:
                o.step()
            total += loss.item() * bu.shape[0]
        step_seconds += time.perf_counter() - t0
        samples += u.shape[0]
        losses.append(round(total / u.shape[0], 5))
        line = (f"[pytorch {'sparse' if sparse else 'dense'}] epoch {epoch + 1}: loss {losses[-1]:.4f} "
                f"{u.shape[0] / (time.perf_counter() - t0):,.0f} samples/s")
        if args.eval_every_epoch:
            ehr, endcg = evaluate(model, test, negatives, device=device)
            curve.append({"epoch": epoch + 1, "HR@10": round(ehr, 4), "NDCG@10": round(endcg, 4)})
            line += f"  HR@10 {ehr:.4f}  NDCG@10 {endcg:.4f}"
        print(line, file=sys.stderr, flush=True)
    hr, ndcg = evaluate(model, test, negatives, device=device)
    return {"engine": f"pytorch {torch.__version__} ({'sparse embeddings + SparseAdam' if sparse else 'dense embeddings + Adam'})",
            "threads": args.threads, "epochs": args.epochs, "train_seconds": round(step_seconds, 2),
            "sampling_seconds": round(sampling_seconds, 2), "samples_per_second": round(samples / step_seconds),
            "device": device, "epoch_losses": losses, "HR@10": round(hr, 4), "NDCG@10": round(ndcg, 4),
            **({"curve": curve} if curve else {})}


def run_starling(args):
    binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "starling")
    cmd = [binary, "bench", "neumf", "--data", args.data, "--epochs", str(args.epochs), "--threads", str(args.threads),
           "--factors", str(args.factors), "--layers", str(args.layers), "--batch-size", str(args.batch_size),
           "--learning-rate", str(args.lr), "--seed", str(args.seed)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("STARLING_DATA", "../shared/datasets"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--factors", type=int, default=32)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--skip-dense", action="store_true", help="skip the dense-Adam PyTorch run")
    p.add_argument("--skip-sparse", action="store_true", help="skip the SparseAdam PyTorch run")
    p.add_argument("--torch-only", action="store_true", help="run PyTorch only (an accuracy reference)")
    p.add_argument("--device", default="cpu", help="PyTorch device (cpu, cuda)")
    p.add_argument("--eval-every-epoch", action="store_true", help="print test HR/NDCG after every epoch")
    args = p.parse_args()
    split = load_split(args.data)
    runs = {}
    if not args.torch_only:
        runs["starling"] = run_starling(args)
    if not args.skip_dense:
        runs["pytorch_dense"] = run_torch(args, split, sparse=False)
    if not args.skip_sparse:
        runs["pytorch_sparse"] = run_torch(args, split, sparse=True)
    result = {"setup": vars(args), "runs": runs}
    if "starling" in runs:
        result["throughput_ratio"] = {f"starling_vs_{k}": round(runs["starling"]["samples_per_second"] / v["samples_per_second"], 2)
                                      for k, v in runs.items() if k != "starling"}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
