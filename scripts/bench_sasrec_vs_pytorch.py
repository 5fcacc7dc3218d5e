#!/usr/bin/env python3
"""SASRec training throughput (and optionally accuracy): Starling vs PyTorch, same settings, same
run, same machine, the same number of threads each.

Data: the SASRec "Games" file ($STARLING_DATA/sasrec/Video.txt: `user item` per line, ids from 1,
each user's lines contiguous and in time order; 31,013 users, 23,715 items), split as SASRec's
`data_partition`: a user with fewer than 3 actions keeps them all for training; otherwise the
last action is the test item, the second last the validation item, the rest is training.

Starling trains first (`starling bench sasrec ...`, which prints one JSON object on stdout), then
PyTorch trains a mirror of pmixer/SASRec.pytorch's `SASRec` (the well-known PyTorch port of Kang &
McAuley, ICDM 2018) with the paper's Games settings as defaults (hidden 50, 2 blocks, 1 head,
dropout 0.5, maxlen 50, batch 128, Adam lr 0.001 betas (0.9, 0.98), no L2 on embeddings):

  x = item_emb[seq] · √d + pos_emb[position]; emb dropout; x *= (seq != 0)
      item_emb: (items + 1) × d, padding_idx 0.  Positions: pmixer's newer variant: the sequence
      is left-padded to maxlen and the real item at padded index p (0-based) gets position p + 1;
      padding gets position 0, pos_emb is (maxlen + 1) × d with padding_idx 0.
  per block: Q = attention_layernorm(x)
             x = Q + MultiheadAttention(d, heads, dropout)(Q, x, x, causal mask)
             x = forward_layernorm(x)
             x = x + Dropout(Conv1d₁ₓ₁(Dropout(ReLU(Conv1d₁ₓ₁(x)))))   (point-wise feed-forward)
             x *= (seq != 0)
  h = last_layernorm(x)   (LayerNorms with eps 1e-8, as pmixer)
  loss = BCEWithLogits(h·item_emb[pos], 1) + BCEWithLogits(h·item_emb[neg], 0), each the mean over
         the positions where pos != 0 (pmixer's loss: the sum of the two means).
  Init: xavier_normal_ on every parameter that takes it (pmixer's try/except loop: matrices and
  embeddings; LayerNorm weights stay 1, biases 0), then the padding rows of both embeddings zeroed.

Sampling mirrors SASRec's WarpSampler, in-process and seeded: each training sequence picks a user
uniformly among users with more than one training item; seq = train[u][:-1], pos = train[u][1:]
(the last maxlen, left-padded with 0), and for each nonzero pos one negative drawn uniformly from
1..items outside set(train[u]). One epoch = (users - 1) // batch + 1 batches of `batch` sequences.

Throughput is sequences × epochs / training seconds. Training seconds cover each batch's forward,
loss, backward and optimizer step (including wrapping the batch's arrays as tensors); sampling is
EXCLUDED: each batch is sampled first, outside the timer, and its time is reported separately as
"sampling_seconds". (--max-batches caps PyTorch's batches per epoch for smoke tests; it is not
passed to Starling.)

--eval (after training, model in eval mode, not timed): the SASRec protocol. Test: the input is
train[u] + [valid[u]] (its last maxlen items), the candidates are the test item and 100 distinct
negatives drawn uniformly (seeded) from the items outside train[u] ∪ {valid[u], test[u]};
rank = the number of negatives scoring >= the test item (pessimistic ties); HR@10 = [rank < 10],
NDCG@10 = 1 / log2(rank + 2) if rank < 10. Validation: the input is train[u], the target valid[u],
negatives outside train[u] ∪ {valid[u]}. Averaged over ALL users that have a test item (SASRec's
own code samples 10,000 users when there are more, and draws its negatives independently, so
repeats are possible; --eval-users N evaluates a seeded sample of N users instead).

Run on an otherwise idle machine: a busy core slows PyTorch's OpenMP threads far more than
Starling's. Each engine's JSON has "machine": the CPU seconds other processes took during its
run (other_cpu_seconds, steal_seconds); trust runs where those are near zero.

Usage: STARLING_BIN=.build/release/starling scripts/bench_sasrec_vs_pytorch.py
           [--epochs 3] [--threads 2] [--batch-size 128] [--max-length 50] [--hidden 50]
           [--blocks 2] [--heads 1] [--dropout 0.5] [--lr 0.001] [--seed 42] [--data DIR]
           [--eval [--eval-users N]] [--torch-only] [--max-batches N]
Needs: pip install torch numpy; a release build of starling (swift build -c release), or
STARLING_BIN pointing at one (not needed with --torch-only).
"""
import argparse, json, os, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn

from bench_support import MachineLoad, default_data

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


# ---------------------------------------------------------------------------- data

class Partition:
    """SASRec's data_partition: per user (ids 1..users) train list, validation and test item (0: none)."""

    def __init__(self, path):
        sequences = {}
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                sequences.setdefault(int(parts[0]), []).append(int(parts[1]))
        self.users = max(sequences)
        self.items = max(max(s) for s in sequences.values())
        self.actions = sum(len(s) for s in sequences.values())
        self.train = [np.zeros(0, np.int64)] * (self.users + 1)  # index 0 unused
        self.valid = np.zeros(self.users + 1, np.int64)
        self.test = np.zeros(self.users + 1, np.int64)
        for u, s in sequences.items():
            if len(s) < 3:
                self.train[u] = np.asarray(s, np.int64)
            else:
                self.train[u] = np.asarray(s[:-2], np.int64)
                self.valid[u], self.test[u] = s[-2], s[-1]
        # Sorted copies for vectorised "is this item one of u's training items" tests.
        self.train_sorted = [np.sort(t) for t in self.train]


def _contains(sorted_items, candidates):
    """Boolean mask: which of `candidates` occur in the sorted array `sorted_items`."""
    if sorted_items.shape[0] == 0:
        return np.zeros(candidates.shape[0], bool)
    at = np.minimum(np.searchsorted(sorted_items, candidates), sorted_items.shape[0] - 1)
    return sorted_items[at] == candidates


class Sampler:
    """SASRec's WarpSampler, in-process and seeded (numpy Generator)."""

    def __init__(self, data, maxlen, seed):
        self.data, self.maxlen = data, maxlen
        self.rng = np.random.default_rng(seed)
        self.eligible = np.array([u for u in range(1, data.users + 1) if data.train[u].shape[0] > 1], np.int64)

    def batch(self, size):
        """(seq, pos, neg), each [size, maxlen] int64, left-padded with 0."""
        L, d, rng = self.maxlen, self.data, self.rng
        seq, pos, neg = (np.zeros((size, L), np.int64) for _ in range(3))
        for b, u in enumerate(self.eligible[rng.integers(0, self.eligible.shape[0], size)]):
            t = d.train[u]
            n = min(t.shape[0] - 1, L)
            seq[b, L - n:] = t[-n - 1:-1]
            pos[b, L - n:] = t[-n:]
            # One negative per target, uniform over 1..items, never one of u's training items.
            draws = rng.integers(1, d.items + 1, n)
            bad = _contains(d.train_sorted[u], draws)
            while bad.any():
                draws[bad] = rng.integers(1, d.items + 1, int(bad.sum()))
                bad = _contains(d.train_sorted[u], draws)
            neg[b, L - n:] = draws
        return seq, pos, neg


# ---------------------------------------------------------------------------- model

class PointWiseFeedForward(nn.Module):
    """Two 1×1 convolutions with ReLU, dropout after each, residual inside (pmixer)."""

    def __init__(self, d, dropout):
        super().__init__()
        self.conv1, self.dropout1 = nn.Conv1d(d, d, kernel_size=1), nn.Dropout(dropout)
        self.relu = nn.ReLU()
        self.conv2, self.dropout2 = nn.Conv1d(d, d, kernel_size=1), nn.Dropout(dropout)

    def forward(self, x):  # x: [B, L, d]; Conv1d wants [B, d, L]
        y = self.dropout2(self.conv2(self.relu(self.dropout1(self.conv1(x.transpose(-1, -2))))))
        return y.transpose(-1, -2) + x


class SASRec(nn.Module):
    def __init__(self, items, maxlen, d, blocks, heads, dropout):
        super().__init__()
        self.item_emb = nn.Embedding(items + 1, d, padding_idx=0)
        self.pos_emb = nn.Embedding(maxlen + 1, d, padding_idx=0)  # position 0 = padding
        self.emb_dropout = nn.Dropout(dropout)
        self.attention_layernorms = nn.ModuleList(nn.LayerNorm(d, eps=1e-8) for _ in range(blocks))
        self.attention_layers = nn.ModuleList(nn.MultiheadAttention(d, heads, dropout) for _ in range(blocks))
        self.forward_layernorms = nn.ModuleList(nn.LayerNorm(d, eps=1e-8) for _ in range(blocks))
        self.forward_layers = nn.ModuleList(PointWiseFeedForward(d, dropout) for _ in range(blocks))
        self.last_layernorm = nn.LayerNorm(d, eps=1e-8)
        # pmixer's init: xavier_normal_ wherever it applies (it raises on 1-D tensors), then
        # the padding rows back to zero.
        for p in self.parameters():
            try:
                nn.init.xavier_normal_(p.data)
            except ValueError:
                pass
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
            self.pos_emb.weight[0].zero_()

    def log2feats(self, seq):  # seq: [B, L] int64 -> [B, L, d]
        B, L = seq.shape
        keep = (seq != 0).unsqueeze(-1)  # ~timeline_mask
        x = self.item_emb(seq) * self.item_emb.embedding_dim ** 0.5
        positions = torch.arange(1, L + 1, dtype=torch.long).unsqueeze(0).expand(B, -1) * (seq != 0)
        x = self.emb_dropout(x + self.pos_emb(positions))
        x = x * keep
        causal = ~torch.tril(torch.ones((L, L), dtype=torch.bool))  # True = may not attend
        for ln_a, attn, ln_f, ffn in zip(self.attention_layernorms, self.attention_layers,
                                         self.forward_layernorms, self.forward_layers):
            x = x.transpose(0, 1)  # MultiheadAttention (batch_first=False) wants [L, B, d]
            q = ln_a(x)
            out, _ = attn(q, x, x, attn_mask=causal, need_weights=False)
            x = (q + out).transpose(0, 1)
            x = ffn(ln_f(x)) * keep
        return self.last_layernorm(x)

    def forward(self, seq, pos, neg):
        h = self.log2feats(seq)
        return (h * self.item_emb(pos)).sum(-1), (h * self.item_emb(neg)).sum(-1)

    def score(self, seq, candidates):  # seq [B, L], candidates [B, C] -> [B, C]
        h = self.log2feats(seq)[:, -1, :]
        return torch.bmm(self.item_emb(candidates), h.unsqueeze(-1)).squeeze(-1)


# ---------------------------------------------------------------------------- evaluation

def _negatives(rng, items, excluded_sorted, count):
    """`count` distinct items drawn uniformly from 1..items outside `excluded_sorted`."""
    chosen = np.zeros(0, np.int64)
    while chosen.shape[0] < count:
        draws = rng.integers(1, items + 1, 2 * count)
        draws = draws[~_contains(excluded_sorted, draws)]
        merged = np.concatenate([chosen, draws])
        _, first = np.unique(merged, return_index=True)
        chosen = merged[np.sort(first)]  # distinct, in draw order
    return chosen[:count]


def evaluate(model, data, users, maxlen, mode, seed, negatives=100, chunk=256):
    """HR@10 and NDCG@10 of the SASRec protocol (mode "test" or "valid") over `users`."""
    rng = np.random.default_rng(seed)
    hits = ndcg = 0.0
    model.eval()
    with torch.no_grad():
        for s in range(0, users.shape[0], chunk):
            block = users[s:s + chunk]
            seq = np.zeros((block.shape[0], maxlen), np.int64)
            cand = np.zeros((block.shape[0], 1 + negatives), np.int64)
            for b, u in enumerate(block):
                t = data.train[u]
                if mode == "test":
                    history, target = np.append(t, data.valid[u]), data.test[u]
                    excluded = np.sort(np.concatenate([t, [data.valid[u], target]]))
                else:
                    history, target = t, data.valid[u]
                    excluded = np.sort(np.append(t, target))
                history = history[-maxlen:]
                seq[b, maxlen - history.shape[0]:] = history
                cand[b, 0] = target
                cand[b, 1:] = _negatives(rng, data.items, excluded, negatives)
            scores = model.score(torch.from_numpy(seq), torch.from_numpy(cand)).numpy()
            rank = (scores[:, 1:] >= scores[:, :1]).sum(axis=1)  # pessimistic ties
            top = rank < 10
            hits += float(top.sum())
            ndcg += float((1.0 / np.log2(rank[top] + 2.0)).sum())
    model.train()
    return hits / users.shape[0], ndcg / users.shape[0]


# ---------------------------------------------------------------------------- runs

def run_torch(args, data):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = SASRec(data.items, args.max_length, args.hidden, args.blocks, args.heads, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    bce = nn.BCEWithLogitsLoss()
    sampler = Sampler(data, args.max_length, args.seed)
    num_batch = (data.users - 1) // args.batch_size + 1
    if args.max_batches:
        num_batch = min(num_batch, args.max_batches)
    clock = time.perf_counter
    train_seconds = sampling_seconds = 0.0
    targets = 0  # nonzero pos entries trained on
    losses, epoch_seconds = [], []
    model.train()
    for epoch in range(args.epochs):
        total, epoch_train, wall = 0.0, 0.0, clock()
        for _ in range(num_batch):
            t0 = clock()
            seq, pos, neg = sampler.batch(args.batch_size)  # not timed as training
            t1 = clock()
            seq_t, pos_t, neg_t = torch.from_numpy(seq), torch.from_numpy(pos), torch.from_numpy(neg)
            pos_logits, neg_logits = model(seq_t, pos_t, neg_t)
            mask = pos_t != 0
            p, n = pos_logits[mask], neg_logits[mask]
            loss = bce(p, torch.ones_like(p)) + bce(n, torch.zeros_like(n))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            t2 = clock()
            sampling_seconds += t1 - t0
            epoch_train += t2 - t1
            targets += int(mask.sum())
        train_seconds += epoch_train
        epoch_seconds.append(round(epoch_train, 3))
        losses.append(round(total / num_batch, 5))
        print(f"[pytorch] epoch {epoch + 1}: loss {losses[-1]:.4f}  train {epoch_train:.2f}s "
              f"(wall {clock() - wall:.2f}s with sampling)  {num_batch * args.batch_size / epoch_train:,.0f} seq/s",
              file=sys.stderr, flush=True)
    sequences = num_batch * args.batch_size * args.epochs
    result = {"engine": f"pytorch {torch.__version__}", "model": "sasrec", "epochs": args.epochs,
              "batches_per_epoch": num_batch, "sequences": sequences,
              "train_seconds": round(train_seconds, 3),
              "sequences_per_second": round(sequences / train_seconds, 1),
              "target_positions_per_second": round(targets / train_seconds),
              "seconds_per_epoch": round(train_seconds / args.epochs, 3), "epoch_train_seconds": epoch_seconds,
              "sampling_seconds": round(sampling_seconds, 3),
              "timing": "forward+loss+backward+Adam step per batch; sampling excluded (sampling_seconds)",
              "epoch_losses": losses, "parameters": sum(p.numel() for p in model.parameters())}
    if args.eval:
        users = np.array([u for u in range(1, data.users + 1) if data.test[u] != 0], np.int64)
        if args.eval_users and args.eval_users < users.shape[0]:
            users = np.sort(np.random.default_rng(args.seed).choice(users, args.eval_users, replace=False))
        t = clock()
        result["test_hr@10"], result["test_ndcg@10"] = (
            round(x, 4) for x in evaluate(model, data, users, args.max_length, "test", args.seed + 1))
        result["valid_hr@10"], result["valid_ndcg@10"] = (
            round(x, 4) for x in evaluate(model, data, users, args.max_length, "valid", args.seed + 2))
        result["eval_users"] = int(users.shape[0])
        result["eval_seconds"] = round(clock() - t, 2)
        print(f"[pytorch] test HR@10 {result['test_hr@10']:.4f} NDCG@10 {result['test_ndcg@10']:.4f}; "
              f"valid HR@10 {result['valid_hr@10']:.4f} NDCG@10 {result['valid_ndcg@10']:.4f} "
              f"({users.shape[0]} users, {result['eval_seconds']:.1f}s)", file=sys.stderr, flush=True)
    return result


def run_starling(args):
    binary = os.environ.get("STARLING_BIN") or os.path.join(REPO, ".build", "release", "starling")
    cmd = [binary, "bench", "sasrec", "--data", args.data, "--epochs", str(args.epochs),
           "--threads", str(args.threads), "--batch-size", str(args.batch_size),
           "--max-length", str(args.max_length), "--hidden", str(args.hidden), "--blocks", str(args.blocks),
           "--heads", str(args.heads), "--dropout", str(args.dropout), "--lr", str(args.lr),
           "--seed", str(args.seed)] + (["--eval"] if args.eval else [])
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout  # stderr: progress, passed through
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        print(out, file=sys.stderr)
        raise


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--max-length", type=int, default=50)
    p.add_argument("--hidden", type=int, default=50)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default=default_data(),
                   help="datasets folder holding sasrec/Video.txt (default: $STARLING_DATA, then /work/shared/datasets)")
    p.add_argument("--eval", action="store_true", help="after training, HR@10/NDCG@10 (test and validation)")
    p.add_argument("--eval-users", type=int, help="with --eval: a seeded sample of this many users (PyTorch side)")
    p.add_argument("--torch-only", action="store_true", help="skip Starling")
    p.add_argument("--max-batches", type=int, help="cap PyTorch's batches per epoch (smoke tests; not passed to Starling)")
    args = p.parse_args()
    if args.hidden % args.heads:
        p.error("--hidden must be a multiple of --heads")

    path = os.path.join(args.data, "sasrec", "Video.txt")
    data = Partition(path)
    lengths = np.array([t.shape[0] for t in data.train[1:]])
    print(f"data: {path}  {data.users} users, {data.items} items, {data.actions} actions, "
          f"mean train length {lengths.mean():.2f}", file=sys.stderr, flush=True)

    result = {"model": "sasrec", "dataset": "sasrec-games (Video.txt)", "users": data.users, "items": data.items,
              "actions": data.actions, "threads": args.threads, "batch_size": args.batch_size, "epochs": args.epochs,
              "max_length": args.max_length, "hidden": args.hidden, "blocks": args.blocks, "heads": args.heads,
              "dropout": args.dropout, "learning_rate": args.lr, "seed": args.seed,
              "max_batches": args.max_batches, "torch_version": torch.__version__, "cores": os.cpu_count(),
              "load_average_before": round(os.getloadavg()[0], 2)}
    # Other work on the machine skews the engines differently (PyTorch's OpenMP threads degrade
    # far more than Starling's when a core is taken): each run records the CPU others took
    # meanwhile ("machine"); compare runs where that is near zero.
    if not args.torch_only:
        with MachineLoad() as load:
            result["starling"] = run_starling(args)
        result["starling"]["machine"] = load.report
    with MachineLoad() as load:
        result["pytorch"] = run_torch(args, data)
    result["pytorch"]["machine"] = load.report
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    if "starling" in result:
        result["ratio_sequences_per_second"] = round(
            result["starling"]["sequences_per_second"] / result["pytorch"]["sequences_per_second"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
