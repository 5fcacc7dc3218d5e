#!/usr/bin/env python3
"""Click-model training throughput and accuracy: Starling vs PyTorch, same architecture, same
encoded inputs, same run. Single-task DeepFM and Wide & Deep (criteo, ml-100k) and the multi-task
click + purchase models Shared-Bottom, MMoE and ESMM (taobao).

Starling trains first (`starling bench click ... --export FILE`) and writes the rows it encoded
(embedding-bag indices, weights and bag boundaries per row and field, standardised numbers,
labels: `labels` is the first task's, `labels.<task>` each task's, metadata `tasks`) to a
safetensors file; PyTorch then trains the same architecture on exactly those rows:

  DeepFM     logit = b + Σ w·linear[i] (every bag of the row) + FM(E) + MLP(flatten E)
  Wide&Deep  logit = b + Σ w·linear[i] (every bag of the row) + MLP([flatten E_deep, values])

where E is each field's weighted sum of rows of one shared [table_rows, k] table
(nn.EmbeddingBag mode="sum" with per_sample_weights), init N(0, 0.01²); linear and b start at
zero; an MLP's hidden layers are He-uniform (±√(6/fan_in)), its output layer LeCun-uniform
(±√(3/fan_in)), biases zero; ReLU and dropout after each hidden layer, none after the output.

The multi-task models (tasks click, purchase) read x = flatten E, every field, [rows, fields·k]
(no numeric values; the table's first-order weights and b exist, as in Starling's parameter count,
but are unused), k = 8 by default, dropout 0:

  Shared-Bottom  h = ReLU(MLP_bottom(x)), MLP_bottom = x → 128 → 64 (--hidden: its widths, the
                 last one its output); logit_t = tower_t(h), tower_t = 64 → 32 → 1 per task.
  MMoE           expert_e(x) = ReLU(MLP_e(x)), e < --experts (4), MLP_e = x → 64 (--hidden: the
                 expert's widths; with one width the expert is a single LeCun-uniform layer and a
                 ReLU); gate_t = softmax(W_t x + c_t) over experts, W_t Xavier-uniform
                 (±√(6/(fan_in+fan_out))), c_t zero; logit_t = tower_t(Σ_e gate_t,e·expert_e(x)),
                 tower_t = 64 → 32 → 1 per task.
  ESMM           a = MLP_ctr(x), b = MLP_cvr(x), each x → 128 → 64 → 32 → 1 (--hidden: the towers'
                 hidden widths); pCTR = σ(a), pCVR = σ(b), the purchase prediction pCTCVR = σ(a)·σ(b).

Loss: batch-mean binary cross-entropy on the logit (single task); the sum over tasks of each task's
batch-mean BCE (Shared-Bottom, MMoE); for ESMM BCE(a, click) − mean(y·log pCTCVR + (1−y)·log(1 +
1e-7 − pCTCVR)), y = purchase, log pCTCVR = −softplus(−a) − softplus(−b). Adam (lr, betas
0.9/0.999, eps 1e-8), rows shuffled every epoch, then test AUC (ties count one half) and log loss,
per task for the multi-task models (ESMM's purchase task scored by pCTCVR). Starling's defaults for
every model: batch 256, lr 0.001 (its default of 10 epochs is 3 here).

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

Starling's JSON gives the first task's test AUC and log loss (`test_auc`, `test_logloss`; any
other `test_*` keys it prints are copied too); PyTorch reports every task's (`test_<task>_auc`,
`test_<task>_logloss`, the first task's also as `test_auc`, `test_logloss`). A Starling build whose
`bench click` cannot print its JSON for a multi-task model (it looked up `test["AUC"]`, which
multi-task evaluation names `click AUC`, and failed on the NaN) still exports the rows first: its
figures then come from its per-epoch progress lines ("from_progress_log": samples/s to three
digits, validation metrics, no test metrics), and `starling.error` says so.

Usage: STARLING_BIN=.build/release/starling scripts/bench_click_vs_pytorch.py
           [--model deepfm|wide-deep|shared-bottom|mmoe|esmm] [--dataset ml-100k|criteo|taobao]
           [--epochs 3] [--threads 2] [--batch-size 256] [--lr 0.001] [--embedding-width K]
           [--hidden A B C] [--dropout P] [--experts 4] [--data DIR] [--seed 42]
       scripts/bench_click_vs_pytorch.py --torch-only --inputs rows.safetensors ...
Needs: pip install torch numpy scipy safetensors; a release build of starling
(swift build -c release), or STARLING_BIN pointing at one.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.numpy import load_file
from scipy.stats import rankdata

from bench_support import MachineLoad, default_data

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULTS = {  # the models' paper values, Starling's defaults (`hidden` is what --hidden sets)
    "deepfm": {"embedding_width": 10, "hidden": [400, 400, 400], "dropout": 0.5},
    "wide-deep": {"embedding_width": 32, "hidden": [1024, 512, 256], "dropout": 0.0},
    "shared-bottom": {"embedding_width": 8, "hidden": [128, 64], "dropout": 0.0},  # the bottom's widths
    "mmoe": {"embedding_width": 8, "hidden": [64], "dropout": 0.0},  # each expert's widths
    "esmm": {"embedding_width": 8, "hidden": [128, 64, 32], "dropout": 0.0},  # each tower's hidden widths
}
MULTI_TASK = ("shared-bottom", "mmoe", "esmm")  # click + purchase, --dataset taobao
TOWER_HIDDEN = [32]  # Shared-Bottom's and MMoE's towers (Starling has no option for them)


# ---------------------------------------------------------------------------- inputs

def _positions(lo, lengths):
    """Concatenated ranges lo[i] ..< lo[i] + lengths[i] (int64), and each range's output start."""
    starts = np.zeros(lengths.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    pos = np.arange(starts[-1], dtype=np.int64) + np.repeat(lo - starts[:-1], lengths)
    return pos, starts


class Split:
    """One exported split (train or test): CSR bags per (row, field), values, labels."""

    def __init__(self, tensors, prefix, fields, deep_fields, tasks):
        self.indices = tensors[f"{prefix}.indices"].astype(np.int64)
        self.weights = tensors[f"{prefix}.weights"].astype(np.float32)
        self.bag_starts = tensors[f"{prefix}.bag_starts"].astype(np.int64)
        self.values = np.ascontiguousarray(tensors[f"{prefix}.values"], dtype=np.float32)
        self.labels = tensors[f"{prefix}.labels"].astype(np.float32)  # the first task's
        self.rows = self.labels.shape[0]
        # [rows, tasks]: `labels.<task>` per task (an older export has `labels` alone).
        self.task_labels = np.ascontiguousarray(np.stack(
            [tensors.get(f"{prefix}.labels.{t}", self.labels if i == 0 else None) for i, t in enumerate(tasks)], axis=1),
            dtype=np.float32)
        assert np.array_equal(self.task_labels[:, 0], self.labels), "labels is not the first task's"
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
        if self.task_labels.shape[1] > 1:
            b["task_labels"] = torch.from_numpy(self.task_labels[rows])
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
    tasks = [t for t in meta.get("tasks", "").split(",") if t] or ["click"]
    tensors = load_file(path)
    return {"table_rows": int(meta["table_rows"]), "fields": fields, "value_fields": ints(meta.get("value_fields", "")),
            "deep_fields": deep_fields, "dataset": meta.get("dataset", "?"), "tasks": tasks,
            "train": Split(tensors, "train", fields, deep_fields, tasks), "test": Split(tensors, "test", fields, deep_fields, tasks)}


# ---------------------------------------------------------------------------- models

def mlp(inputs, hidden, dropout, outputs=1):
    """Starling's MultilayerPerceptron: inputs → hidden… → outputs, ReLU (+ dropout) after each
    hidden layer, none after the output layer."""
    mods, width = [], inputs
    for h in hidden:
        layer = nn.Linear(width, h)
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # He uniform, √(6/fan_in)
        nn.init.zeros_(layer.bias)
        mods += [layer, nn.ReLU()] + ([nn.Dropout(dropout)] if dropout > 0 else [])
        width = h
    out = nn.Linear(width, outputs)
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


class MultiTaskNet(nn.Module):
    """Shared-Bottom, MMoE or ESMM over one shared field-embedding table; forward gives [rows, tasks]
    logits (ESMM: [click logit a, conversion-given-click logit b])."""

    def __init__(self, model, inputs, width, hidden, dropout, sparse, experts=4, tower=TOWER_HIDDEN):
        super().__init__()
        self.model, self.width, self.fields = model, width, inputs["fields"]
        self.tasks = inputs["tasks"]
        if model == "esmm":
            assert self.tasks == ["click", "purchase"], f"ESMM needs tasks click, purchase; the rows have {self.tasks}"
        rows, x = inputs["table_rows"], inputs["fields"] * width
        # Starling's FeatureEmbeddings: vectors N(0, 0.01²); first-order weights and bias zero, unused here.
        self.vectors = nn.EmbeddingBag(rows, width, mode="sum", sparse=sparse)
        self.linear = nn.EmbeddingBag(rows, 1, mode="sum", sparse=sparse)
        self.bias = nn.Parameter(torch.zeros(1))
        nn.init.normal_(self.vectors.weight, std=0.01)
        nn.init.zeros_(self.linear.weight)
        if model == "shared-bottom":
            self.bottom = mlp(x, hidden[:-1], dropout, outputs=hidden[-1])
            self.towers = nn.ModuleList(mlp(hidden[-1], tower, dropout) for _ in self.tasks)
        elif model == "mmoe":
            self.experts = nn.ModuleList(mlp(x, hidden[:-1], dropout, outputs=hidden[-1]) for _ in range(experts))
            self.gates = nn.ModuleList(nn.Linear(x, experts) for _ in self.tasks)
            for g in self.gates:
                nn.init.xavier_uniform_(g.weight)  # Starling's Linear default, ±√(6/(fan_in+fan_out))
                nn.init.zeros_(g.bias)
            self.towers = nn.ModuleList(mlp(hidden[-1], tower, dropout) for _ in self.tasks)
        else:
            self.ctr = mlp(x, hidden, dropout)
            self.cvr = mlp(x, hidden, dropout)

    def tables(self):
        return [self.vectors.weight, self.linear.weight]

    def forward(self, b):
        n = b["labels"].shape[0]
        x = self.vectors(b["indices"], b["field_offsets"], per_sample_weights=b["weights"]).view(n, self.fields * self.width)
        if self.model == "shared-bottom":
            h = torch.relu(self.bottom(x))
            return torch.cat([t(h) for t in self.towers], dim=1)
        if self.model == "mmoe":
            outputs = torch.stack([torch.relu(e(x)) for e in self.experts], dim=1)  # [rows, experts, width]
            mixtures = [(outputs * torch.softmax(g(x), dim=1).unsqueeze(2)).sum(dim=1) for g in self.gates]
            return torch.cat([t(m) for t, m in zip(self.towers, mixtures)], dim=1)
        return torch.cat([self.ctr(x), self.cvr(x)], dim=1)

    def loss(self, logits, labels):
        """ClickModel.loss: Σ_t mean BCE(logit_t, y_t); ESMM.loss: BCE(a, click) + BCE(pCTCVR, purchase)."""
        if self.model != "esmm":
            return F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=0).sum()
        a, b, click, purchase = logits[:, 0], logits[:, 1], labels[:, 0], labels[:, 1]
        ctr = F.binary_cross_entropy_with_logits(a, click)
        log_p = -(F.softplus(-a) + F.softplus(-b))
        log_not_p = torch.log(torch.sigmoid(a) * torch.sigmoid(b) * -1 + (1 + 1e-7))
        return ctr - (log_p * purchase + log_not_p * (1 - purchase)).mean()

    def scores(self, logits):
        """Per task (float64): a score monotone in the predicted probability (for AUC) and the probability."""
        z = logits.astype(np.float64)
        if self.model == "esmm":  # the purchase task is pCTCVR = σ(a)σ(b); score by its log
            log_ctcvr = -(np.logaddexp(0, -z[:, 0]) + np.logaddexp(0, -z[:, 1]))
            return [(z[:, 0], 1 / (1 + np.exp(-z[:, 0]))), (log_ctcvr, np.exp(log_ctcvr))]
        return [(z[:, t], 1 / (1 + np.exp(-z[:, t]))) for t in range(z.shape[1])]


def make_model(args, inputs, sparse):
    if args.model in MULTI_TASK:
        return MultiTaskNet(args.model, inputs, args.embedding_width, args.hidden, args.dropout, sparse, experts=args.experts)
    return ClickNet(args.model, inputs, args.embedding_width, args.hidden, args.dropout, sparse)


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
    """[(AUC, log loss)] per task."""
    model.eval()
    logits = []
    with torch.no_grad():
        for s in range(0, split.rows, chunk):
            logits.append(model(split.batch(np.arange(s, min(s + chunk, split.rows)), deep)).numpy())
    model.train()
    z = np.concatenate(logits)
    if isinstance(model, MultiTaskNet):
        return [(auc(score, split.task_labels[:, t]), log_loss(p, split.task_labels[:, t]))
                for t, (score, p) in enumerate(model.scores(z))]
    z = z.astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    return [(auc(z, split.labels), log_loss(p, split.labels))]


# ---------------------------------------------------------------------------- runs

def run_torch(args, inputs, sparse):
    name = "sparse" if sparse else "dense"
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = make_model(args, inputs, sparse)
    tables = model.tables()
    if sparse:
        rest = [p for p in model.parameters() if all(p is not t for t in tables)]
        optimizers = [torch.optim.SparseAdam(tables, lr=args.lr, betas=(0.9, 0.999), eps=1e-8),
                      torch.optim.Adam(rest, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)]
    if isinstance(model, MultiTaskNet):
        loss_fn = lambda logits, b: model.loss(logits, b["task_labels"])
    else:
        bce = nn.BCEWithLogitsLoss()
        loss_fn = lambda logits, b: bce(logits, b["labels"])
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
            loss = loss_fn(model(b), b)
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
    test = evaluate(model, inputs["test"], deep)
    result = {"engine": f"pytorch {torch.__version__} ({'sparse embedding bags + SparseAdam' if sparse else 'dense embedding bags + Adam'})",
            "samples_per_second": round(train.rows * args.epochs / train_seconds),
            "train_seconds": round(train_seconds, 3), "gather_seconds": round(t_gather, 3),
            "forward_seconds": round(t_forward, 3), "backward_seconds": round(t_backward, 3),
            "optimizer_seconds": round(t_optim, 3), "epoch_losses": losses,
            "parameters": sum(p.numel() for p in model.parameters()),
            "test_auc": round(test[0][0], 4), "test_logloss": round(test[0][1], 4)}
    if len(test) > 1:
        for task, (a, l) in zip(inputs["tasks"], test):
            result[f"test_{task}_auc"], result[f"test_{task}_logloss"] = round(a, 4), round(l, 4)
    return result


def run_starling(args, export):
    binary = os.environ.get("STARLING_BIN") or os.path.join(REPO, ".build", "release", "starling")
    cmd = [binary, "bench", "click", "--model", args.model, "--dataset", args.dataset, "--data", args.data,
           "--epochs", str(args.epochs), "--patience", "0", "--threads", str(args.threads),
           "--batch-size", str(args.batch_size), "--learning-rate", str(args.lr), "--seed", str(args.seed),
           "--embedding-width", str(args.embedding_width), "--hidden", *map(str, args.hidden),
           "--dropout", str(args.dropout), "--export", export]
    if args.model == "mmoe":
        cmd += ["--experts", str(args.experts)]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        log = []
        for line in proc.stderr:  # pass the progress through, keep it for a fallback
            sys.stderr.write(line)
            sys.stderr.flush()
            log.append(line.rstrip("\n"))
        proc.wait()
        out.seek(0)
        stdout = out.read()
    if proc.returncode == 0:
        return json.loads(stdout)
    figures = from_progress_log(log)
    if figures is None or not os.path.exists(export):
        raise subprocess.CalledProcessError(proc.returncode, cmd, stdout, "\n".join(log[-5:]))
    figures["error"] = (f"starling exited {proc.returncode} ({log[-1] if log else '?'}); its figures come from its "
                        "per-epoch progress lines (samples/s to three digits, validation metrics only, no test metrics)")
    print(f"warning: {figures['error']}", file=sys.stderr, flush=True)
    return figures


EPOCH_LINE = re.compile(r"^\[(?P<model>[^\]]+)\] epoch (?P<epoch>\d+) done\s+loss (?P<loss>\S+)\s+(?P<seconds>\S+)s\s+"
                        r"(?P<rate>[\d.]+)(?P<unit>[kM]) samples/s\s*(?P<metrics>.*)$")


def from_progress_log(lines):
    """Starling's figures from its `[Model] epoch N done  loss L  S.Ss  279k samples/s  val …` lines:
    samples/s over all epochs (epochs / Σ 1/rate_e), epoch losses, the last epoch's metrics."""
    epochs = [m for m in map(EPOCH_LINE.match, lines) if m]
    if not epochs:
        return None
    rates = [float(m["rate"]) * (1e3 if m["unit"] == "k" else 1e6) for m in epochs]
    metrics = dict((k, float(v)) for k, v in re.findall(r"(\D+?) (-?[\d.]+|nan)(?:\s{2,}|$)", epochs[-1]["metrics"]))
    return {"from_progress_log": True, "model": epochs[-1]["model"],
            "samples_per_second": round(len(rates) / sum(1 / r for r in rates)),
            "train_seconds": round(sum(float(m["seconds"]) for m in epochs), 1),
            "epoch_losses": [float(m["loss"]) for m in epochs],
            "last_epoch_validation": {k.strip(): v for k, v in metrics.items()}}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["deepfm", "wide-deep", *MULTI_TASK], default="deepfm",
                   help="shared-bottom, mmoe and esmm predict click and purchase: --dataset taobao")
    p.add_argument("--dataset", choices=["criteo", "ml-100k", "taobao"],
                   help="default: ml-100k (DeepFM, Wide&Deep), taobao (multi-task models)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--embedding-width", type=int, help="default: 10 (DeepFM), 32 (Wide&Deep), 8 (multi-task)")
    p.add_argument("--hidden", type=int, nargs="+",
                   help="default: 400 400 400 (DeepFM), 1024 512 256 (Wide&Deep); Shared-Bottom: the bottom's widths "
                        "(128 64); MMoE: each expert's widths (64); ESMM: each tower's hidden widths (128 64 32)")
    p.add_argument("--dropout", type=float, help="default: 0.5 (DeepFM), 0 (the others)")
    p.add_argument("--experts", type=int, default=4, help="MMoE: the number of experts")
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
    if args.dataset is None:
        args.dataset = "taobao" if args.model in MULTI_TASK else "ml-100k"
    if (args.model in MULTI_TASK) != (args.dataset == "taobao"):
        p.error(f"{args.model} predicts {'click and purchase' if args.model in MULTI_TASK else 'click only'}: use --dataset "
                f"{'taobao' if args.model in MULTI_TASK else 'criteo or ml-100k'}")
    if args.torch_only and not args.inputs:
        p.error("--torch-only needs --inputs FILE (a `starling bench click --export` file)")

    result = {"model": args.model, "dataset": args.dataset, "threads": args.threads, "batch_size": args.batch_size,
              "epochs": args.epochs, "learning_rate": args.lr, "embedding_width": args.embedding_width,
              "hidden": args.hidden, "dropout": args.dropout, "seed": args.seed, "torch_version": torch.__version__,
              "cores": os.cpu_count(), "load_average_before": round(os.getloadavg()[0], 2)}
    if args.model in ("shared-bottom", "mmoe"):
        result["tower_hidden"] = TOWER_HIDDEN
    if args.model == "mmoe":
        result["experts"] = args.experts
    with tempfile.TemporaryDirectory(prefix="starling-click-") as tmp:
        path = args.inputs or os.path.join(tmp, "rows.safetensors")
        if not args.torch_only:
            with MachineLoad() as load:
                s = run_starling(args, path)
            keys = ["samples_per_second", "train_seconds", "test_auc", "test_logloss", "epoch_losses", "parameters", "build",
                    "error", "from_progress_log", "last_epoch_validation"]
            keys += sorted(k for k in s if k.startswith("test_") and k not in keys)  # per-task metrics, if it prints them
            result["starling"] = {k: s[k] for k in keys if k in s}
            result["starling"]["machine"] = load.report
        inputs = load_inputs(path)
    if (len(inputs["tasks"]) > 1) != (args.model in MULTI_TASK):
        sys.exit(f"{args.model} does not fit the rows in {path}: tasks {','.join(inputs['tasks'])}")
    tr = inputs["train"]
    print(f"inputs: {inputs['dataset']}  {tr.rows} training rows, {inputs['test'].rows} test, {inputs['fields']} fields, "
          f"{inputs['table_rows']} table rows, {tr.indices.shape[0] / tr.rows:.1f} indices/row", file=sys.stderr, flush=True)
    result["rows"] = {"train": tr.rows, "test": inputs["test"].rows, "fields": inputs["fields"], "tasks": inputs["tasks"],
                      "table_rows": inputs["table_rows"], "indices_per_row": round(tr.indices.shape[0] / tr.rows, 2),
                      "train_positive_rate": {t: round(float(tr.task_labels[:, i].mean()), 4) for i, t in enumerate(inputs["tasks"])}}
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
