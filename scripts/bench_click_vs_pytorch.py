#!/usr/bin/env python3
"""DeepFM / Wide & Deep training throughput and accuracy: Starling vs PyTorch, same architecture,
same encoded inputs, same run.

Starling trains first (`starling bench click ... --export FILE`) and writes the rows it encoded
(embedding-bag indices, weights and bag boundaries per row and field, standardised numbers,
labels) to a safetensors file; PyTorch then trains the same architecture on exactly those rows:

  DeepFM     logit = b + Σ w·linear[i] (every bag of the row) + FM(E) + MLP(flatten E)
  Wide&Deep  logit = b + Σ w·linear[i] (every bag of the row) + MLP([flatten E_deep, values])

where E is each field's weighted sum of rows of one shared [table_rows, k] table
(nn.EmbeddingBag mode="sum" with per_sample_weights), init N(0, 0.01²); linear and b start at
zero; hidden layers He-uniform, the output layer LeCun-uniform, biases zero; ReLU and dropout
after each hidden layer. Adam (lr, betas 0.9/0.999, eps 1e-8), batch-mean binary cross-entropy,
rows shuffled every epoch, then test AUC (ties count one half) and log loss.

Throughput is rows × epochs / training seconds. Training seconds cover the steps, including each
mini-batch's gathering of its rows' bags (Starling's steps gather too); the shuffle and the test
evaluation are excluded on both sides. PyTorch also reports its split into gather, forward,
backward and optimizer seconds.

PyTorch runs twice: (a) dense nn.EmbeddingBag + torch.optim.Adam over every parameter, and
(b) sparse=True embedding bags + torch.optim.SparseAdam for the two tables (lazy row updates, as
Starling's Adam does) + Adam for the rest.

Run on an otherwise idle machine: a busy core slows PyTorch's OpenMP threads far more than
Starling's. Each engine's JSON has "machine": the CPU seconds other processes took during its
run (other_cpu_seconds, steal_seconds); trust runs where those are near zero.

Usage: STARLING_BIN=.build/release/starling scripts/bench_click_vs_pytorch.py
           [--model deepfm|wide-deep] [--dataset ml-100k|criteo] [--epochs 3] [--threads 2]
           [--batch-size 256] [--lr 0.001] [--embedding-width K] [--hidden A B C] [--dropout P]
           [--data DIR] [--seed 42]
       scripts/bench_click_vs_pytorch.py --torch-only --inputs rows.safetensors ...
Needs: pip install torch numpy scipy safetensors; a release build of starling
(swift build -c release), or STARLING_BIN pointing at one.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time

import numpy as np
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.numpy import load_file
from scipy.stats import rankdata

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULTS = {  # the models' paper values, Starling's defaults
    "deepfm": {"embedding_width": 10, "hidden": [400, 400, 400], "dropout": 0.5},
    "wide-deep": {"embedding_width": 32, "hidden": [1024, 512, 256], "dropout": 0.0},
}


# ---------------------------------------------------------------------------- inputs

def _positions(lo, lengths):
    """Concatenated ranges lo[i] ..< lo[i] + lengths[i] (int64), and each range's output start."""
    starts = np.zeros(lengths.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    pos = np.arange(starts[-1], dtype=np.int64) + np.repeat(lo - starts[:-1], lengths)
    return pos, starts


class Split:
    """One exported split (train or test): CSR bags per (row, field), values, labels."""

    def __init__(self, tensors, prefix, fields, deep_fields):
        self.indices = tensors[f"{prefix}.indices"].astype(np.int64)
        self.weights = tensors[f"{prefix}.weights"].astype(np.float32)
        self.bag_starts = tensors[f"{prefix}.bag_starts"].astype(np.int64)
        self.values = np.ascontiguousarray(tensors[f"{prefix}.values"], dtype=np.float32)
        self.labels = tensors[f"{prefix}.labels"].astype(np.float32)
        self.rows = self.labels.shape[0]
        self.fields = fields
        assert self.bag_starts.shape[0] == self.rows * fields + 1 and self.bag_starts[-1] == self.indices.shape[0]
        assert np.all(np.diff(self.bag_starts) > 0), "empty bag in export"
        self.bags = self.bag_starts[:-1].reshape(self.rows, fields)  # start of bag (r, f)
        self.row_lo = self.bag_starts[0:-1:fields]  # a row's bags are contiguous: [row_lo, row_hi)
        self.row_hi = self.bag_starts[fields::fields]
        # Wide & Deep's deep part reads only deep_fields (None: every field).
        self.deep_fields = None if deep_fields == list(range(fields)) else np.asarray(deep_fields, np.int64)
        if self.deep_fields is not None:
            ends = self.bag_starts[1:].reshape(self.rows, fields)
            self.deep_lo = self.bags[:, self.deep_fields]
            self.deep_len = ends[:, self.deep_fields] - self.deep_lo

    def batch(self, rows, deep):
        """Tensors of the rows `rows` (in that order): indices/weights of every bag of those rows,
        per-(row, field) and per-row offsets, and for a deep-field subset its own bags."""
        pos, row_starts = _positions(self.row_lo[rows], self.row_hi[rows] - self.row_lo[rows])
        field_offsets = (self.bags[rows] - self.row_lo[rows, None] + row_starts[:-1, None]).reshape(-1)
        b = {"indices": torch.from_numpy(self.indices[pos]), "weights": torch.from_numpy(self.weights[pos]),
             "field_offsets": torch.from_numpy(field_offsets), "row_offsets": torch.from_numpy(row_starts[:-1]),
             "labels": torch.from_numpy(self.labels[rows])}
        if deep:
            if self.deep_fields is not None:
                dpos, dstarts = _positions(self.deep_lo[rows].reshape(-1), self.deep_len[rows].reshape(-1))
                b["deep_indices"] = torch.from_numpy(self.indices[dpos])
                b["deep_weights"] = torch.from_numpy(self.weights[dpos])
                b["deep_offsets"] = torch.from_numpy(dstarts[:-1])
            if self.values.shape[1] > 0:
                b["values"] = torch.from_numpy(self.values[rows])
        return b


def load_inputs(path):
    meta = safe_open(path, "np").metadata()
    fields = int(meta["fields"])
    ints = lambda s: [int(x) for x in s.split(",") if x != ""]
    deep_fields = ints(meta.get("deep_fields", "")) or list(range(fields))
    tensors = load_file(path)
    return {"table_rows": int(meta["table_rows"]), "fields": fields, "value_fields": ints(meta.get("value_fields", "")),
            "deep_fields": deep_fields, "dataset": meta.get("dataset", "?"),
            "train": Split(tensors, "train", fields, deep_fields), "test": Split(tensors, "test", fields, deep_fields)}


# ---------------------------------------------------------------------------- models

def mlp(inputs, hidden, dropout):
    mods, width = [], inputs
    for h in hidden:
        layer = nn.Linear(width, h)
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # He uniform, √(6/fan_in)
        nn.init.zeros_(layer.bias)
        mods += [layer, nn.ReLU()] + ([nn.Dropout(dropout)] if dropout > 0 else [])
        width = h
    out = nn.Linear(width, 1)
    nn.init.kaiming_uniform_(out.weight, nonlinearity="linear")  # LeCun uniform, √(3/fan_in)
    nn.init.zeros_(out.bias)
    return nn.Sequential(*mods, out)


class ClickNet(nn.Module):
    """DeepFM or Wide & Deep over one shared field-embedding table and first-order weights."""

    def __init__(self, model, inputs, width, hidden, dropout, sparse):
        super().__init__()
        self.model, self.width, self.fields = model, width, inputs["fields"]
        rows = inputs["table_rows"]
        self.vectors = nn.EmbeddingBag(rows, width, mode="sum", sparse=sparse)
        self.linear = nn.EmbeddingBag(rows, 1, mode="sum", sparse=sparse)
        self.bias = nn.Parameter(torch.zeros(1))
        nn.init.normal_(self.vectors.weight, std=0.01)
        nn.init.zeros_(self.linear.weight)
        if model == "deepfm":
            deep_in = self.fields * width
        else:
            deep_in = len(inputs["deep_fields"]) * width + len(inputs["value_fields"])
        self.deep_field_count = len(inputs["deep_fields"])
        self.deep = mlp(deep_in, hidden, dropout)

    def tables(self):
        return [self.vectors.weight, self.linear.weight]

    def forward(self, b):
        n = b["labels"].shape[0]
        first = self.linear(b["indices"], b["row_offsets"], per_sample_weights=b["weights"]).view(-1) + self.bias
        if self.model == "deepfm":
            e = self.vectors(b["indices"], b["field_offsets"], per_sample_weights=b["weights"]).view(n, self.fields, self.width)
            s = e.sum(dim=1)
            fm = 0.5 * ((s * s).sum(dim=1) - (e * e).sum(dim=(1, 2)))
            return first + fm + self.deep(e.view(n, self.fields * self.width)).view(-1)
        if "deep_indices" in b:
            e = self.vectors(b["deep_indices"], b["deep_offsets"], per_sample_weights=b["deep_weights"])
        else:
            e = self.vectors(b["indices"], b["field_offsets"], per_sample_weights=b["weights"])
        x = e.view(n, self.deep_field_count * self.width)
        if "values" in b:
            x = torch.cat([x, b["values"]], dim=1)
        return first + self.deep(x).view(-1)


# ---------------------------------------------------------------------------- metrics

def auc(scores, labels):
    """Mann–Whitney AUC; tied scores count one half (average ranks)."""
    pos = labels > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(probabilities, labels):
    q = np.clip(probabilities.astype(np.float64), 1e-15, 1 - 1e-15)
    return float(-np.mean(np.where(labels > 0.5, np.log(q), np.log(1 - q))))


def evaluate(model, split, deep, chunk=4096):
    model.eval()
    logits = []
    with torch.no_grad():
        for s in range(0, split.rows, chunk):
            logits.append(model(split.batch(np.arange(s, min(s + chunk, split.rows)), deep)).numpy())
    model.train()
    z = np.concatenate(logits).astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    return auc(z, split.labels), log_loss(p, split.labels)


# ---------------------------------------------------------------------------- runs

def run_torch(args, inputs, sparse):
    name = "sparse" if sparse else "dense"
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = ClickNet(args.model, inputs, args.embedding_width, args.hidden, args.dropout, sparse)
    tables = model.tables()
    if sparse:
        rest = [p for p in model.parameters() if all(p is not t for t in tables)]
        optimizers = [torch.optim.SparseAdam(tables, lr=args.lr, betas=(0.9, 0.999), eps=1e-8),
                      torch.optim.Adam(rest, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)]
    loss_fn = nn.BCEWithLogitsLoss()
    train, deep = inputs["train"], args.model == "wide-deep"
    rng = np.random.default_rng(args.seed)
    t_gather = t_forward = t_backward = t_optim = 0.0
    losses = []
    clock = time.perf_counter
    for epoch in range(args.epochs):
        order = rng.permutation(train.rows)  # shuffle: not timed (nor is Starling's)
        total = 0.0
        epoch_start = clock()
        for s in range(0, train.rows, args.batch_size):
            t0 = clock()
            b = train.batch(order[s:s + args.batch_size], deep)
            t1 = clock()
            for o in optimizers:
                o.zero_grad(set_to_none=True)
            loss = loss_fn(model(b), b["labels"])
            t2 = clock()
            loss.backward()
            t3 = clock()
            for o in optimizers:
                o.step()
            t4 = clock()
            total += loss.item() * b["labels"].shape[0]
            t_gather += t1 - t0
            t_forward += t2 - t1
            t_backward += t3 - t2
            t_optim += t4 - t3
        seconds = clock() - epoch_start
        losses.append(round(total / train.rows, 5))
        print(f"[pytorch {name}] epoch {epoch + 1}: loss {losses[-1]:.4f}  {seconds:.2f}s  "
              f"{train.rows / seconds:,.0f} samples/s", file=sys.stderr, flush=True)
    train_seconds = t_gather + t_forward + t_backward + t_optim
    test_auc, test_logloss = evaluate(model, inputs["test"], deep)
    return {"engine": f"pytorch {torch.__version__} ({'sparse embedding bags + SparseAdam' if sparse else 'dense embedding bags + Adam'})",
            "samples_per_second": round(train.rows * args.epochs / train_seconds),
            "train_seconds": round(train_seconds, 3), "gather_seconds": round(t_gather, 3),
            "forward_seconds": round(t_forward, 3), "backward_seconds": round(t_backward, 3),
            "optimizer_seconds": round(t_optim, 3), "epoch_losses": losses,
            "parameters": sum(p.numel() for p in model.parameters()),
            "test_auc": round(test_auc, 4), "test_logloss": round(test_logloss, 4)}


def run_starling(args, export):
    binary = os.environ.get("STARLING_BIN") or os.path.join(REPO, ".build", "release", "starling")
    cmd = [binary, "bench", "click", "--model", args.model, "--dataset", args.dataset, "--data", args.data,
           "--epochs", str(args.epochs), "--patience", "0", "--threads", str(args.threads),
           "--batch-size", str(args.batch_size), "--learning-rate", str(args.lr), "--seed", str(args.seed),
           "--embedding-width", str(args.embedding_width), "--hidden", *map(str, args.hidden),
           "--dropout", str(args.dropout), "--export", export]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)


class MachineLoad:
    """CPU seconds that other processes (and the hypervisor, as steal) took while a run went on,
    from /proc/stat minus this process's and its waited-for children's own CPU time (Linux)."""

    def __enter__(self):
        self.start = self._sample()
        self.report = {}
        return self

    def __exit__(self, *exc):
        end = self._sample()
        if self.start and end:
            busy, steal, own, wall = (b - a for a, b in zip(self.start, end))
            self.report = {"other_cpu_seconds": round(max(busy - own, 0.0), 2), "steal_seconds": round(steal, 2),
                           "wall_seconds": round(wall, 2)}

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                t = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (t[0] + t[1] + t[2] + t[5] + t[6]) / hz  # user nice system irq softirq
        own = sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                    resource.getrusage(resource.RUSAGE_CHILDREN)))
        return busy, (t[7] if len(t) > 7 else 0) / hz, own, time.perf_counter()


def default_data():
    if os.environ.get("STARLING_DATA"):
        return os.environ["STARLING_DATA"]
    for d in ("/work/shared/datasets", os.path.join(REPO, "..", "shared", "datasets")):
        if os.path.isdir(d):
            return d
    return "../shared/datasets"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["deepfm", "wide-deep"], default="deepfm")
    p.add_argument("--dataset", choices=["criteo", "ml-100k"], default="ml-100k")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--embedding-width", type=int, help="default: 10 (DeepFM), 32 (Wide&Deep)")
    p.add_argument("--hidden", type=int, nargs="+", help="default: 400 400 400 (DeepFM), 1024 512 256 (Wide&Deep)")
    p.add_argument("--dropout", type=float, help="default: 0.5 (DeepFM), 0 (Wide&Deep)")
    p.add_argument("--data", default=default_data(), help="datasets folder (default: $STARLING_DATA, then /work/shared/datasets or ../shared/datasets)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--skip-dense", action="store_true", help="skip the dense-Adam PyTorch run")
    p.add_argument("--skip-sparse", action="store_true", help="skip the SparseAdam PyTorch run")
    p.add_argument("--torch-only", action="store_true", help="skip Starling; train PyTorch on --inputs")
    p.add_argument("--inputs", help="with --torch-only: an existing `starling bench click --export` file to train on; "
                   "otherwise: where to keep the rows Starling exports (default: a temporary file)")
    args = p.parse_args()
    for key, value in DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.torch_only and not args.inputs:
        p.error("--torch-only needs --inputs FILE (a `starling bench click --export` file)")

    result = {"model": args.model, "dataset": args.dataset, "threads": args.threads, "batch_size": args.batch_size,
              "epochs": args.epochs, "learning_rate": args.lr, "embedding_width": args.embedding_width,
              "hidden": args.hidden, "dropout": args.dropout, "seed": args.seed, "torch_version": torch.__version__,
              "cores": os.cpu_count(), "load_average_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="starling-click-") as tmp:
        path = args.inputs or os.path.join(tmp, "rows.safetensors")
        if not args.torch_only:
            with MachineLoad() as load:
                s = run_starling(args, path)
            result["starling"] = {k: s.get(k) for k in ("samples_per_second", "train_seconds", "test_auc", "test_logloss",
                                                        "epoch_losses", "parameters", "build")}
            result["starling"]["machine"] = load.report
        inputs = load_inputs(path)
    tr = inputs["train"]
    print(f"inputs: {inputs['dataset']}  {tr.rows} training rows, {inputs['test'].rows} test, {inputs['fields']} fields, "
          f"{inputs['table_rows']} table rows, {tr.indices.shape[0] / tr.rows:.1f} indices/row", file=sys.stderr, flush=True)
    result["rows"] = {"train": tr.rows, "test": inputs["test"].rows, "fields": inputs["fields"],
                      "table_rows": inputs["table_rows"], "indices_per_row": round(tr.indices.shape[0] / tr.rows, 2)}
    # Other work on the machine skews the engines differently (PyTorch's OpenMP threads degrade
    # far more than Starling's when a core is taken): each run records the CPU others took
    # meanwhile ("machine"); compare runs where that is near zero.
    for key, sparse, skip in (("pytorch_dense", False, args.skip_dense), ("pytorch_sparse", True, args.skip_sparse)):
        if not skip:
            with MachineLoad() as load:
                result[key] = run_torch(args, inputs, sparse=sparse)
            result[key]["machine"] = load.report
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    if "starling" in result:
        for key, name in (("pytorch_dense", "ratio_vs_dense"), ("pytorch_sparse", "ratio_vs_sparse")):
            if key in result:
                result[name] = round(result["starling"]["samples_per_second"] / result[key]["samples_per_second"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
