#!/usr/bin/env python3
"""Run the ANN peers (hnswlib, faiss IVF-Flat, faiss HNSW-Flat) on vectors exported by Starling.

Input: a directory written by `starling bench index --export DIR`, one folder per set:

    DIR/<set>/meta.json     {"name": str, "count": n, "dimension": d, "queries": q, "metric": "inner-product"}
    DIR/<set>/base.f32      raw little-endian float32, n x d, row-major; ids are row numbers
    DIR/<set>/queries.f32   raw little-endian float32, q x d
    DIR/<set>/truth.i32     raw little-endian int32, q x 10: the exact top-10 ids by inner product

Protocol, for each set, all peers in this one process so they share the machine state:

* hnswlib: `Index(space='ip')` with M and ef_construction (--m, --ef-construction), built with
  --build-threads threads (default 2; build time = init_index + add_items). For each efSearch in
  --ef and each thread count in --threads: `set_ef`, `set_num_threads`, then one `knn_query(k=10)` over
  the whole query batch, timed with time.perf_counter, best of --repeats runs -> queries/s;
  recall@10 = mean over queries of |found ∩ truth| / 10.
* faiss IVF-Flat (inner product): nlist = round(4·√n), the coarse quantiser trained on a
  seeded sample of at most 100k base rows; build time = train + add (--build-threads OpenMP
  threads). Searched at nprobe in --nprobe with `omp_set_num_threads(t)` for t in --faiss-threads (default 1).
* faiss HNSW-Flat: `IndexHNSWFlat(d, M, METRIC_INNER_PRODUCT)`, efConstruction as above, built
  with --build-threads threads, searched at the same efSearch list and --faiss-threads.

For every peer and thread count `qps_at_recall_095` is the best queries/s among the settings
with recall@10 >= 0.95 (null when none reaches it).

Each peer runs in a forked child process (it inherits the loaded arrays without a copy), so one
peer's freed memory or threads cannot affect the next. Memory: each peer reports
`rss_growth_bytes`, the growth of the child's resident set (VmRSS in /proc/self/status) across
the build, measured (it includes the build's transient allocations still held), and
`estimate_bytes`, a formula over the index's layout, given in `estimate_formula`.

Output: one JSON object on stdout,
    {"sets": {set: {"meta": ..., "hnswlib": {...}, "faiss_ivf": {...}, "faiss_hnsw": {...}}}}
progress on stderr.

Usage: scripts/compare_ann_peers.py DIR [--sets A B] [--ef 10 16 ...] [--m 16] [--ef-construction 200]
       [--threads 1 2] [--faiss-threads 1] [--nprobe 1 2 4 8 16] [--repeats 3] [--build-threads 2]
"""

import argparse
import json
import math
import multiprocessing
import os
import sys
import time

import numpy as np

K = 10
RECALL_TARGET = 0.95


def log(message):
    print(message, file=sys.stderr, flush=True)


def rss_bytes():
    """Resident set size of this process (Linux /proc), or None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def load_set(directory):
    """Reads one exported set, checking the layout against meta.json."""
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    for key in ("count", "dimension", "queries", "metric"):
        if key not in meta:
            sys.exit(f"{directory}/meta.json: missing {key!r}")
    if meta["metric"] != "inner-product":
        sys.exit(f"{directory}/meta.json: metric {meta['metric']!r}, only 'inner-product' is supported")
    n, d, q = meta["count"], meta["dimension"], meta["queries"]

    def read(name, dtype, rows, cols):
        path = os.path.join(directory, name)
        data = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<"))
        if data.size != rows * cols:
            sys.exit(f"{path}: {data.size} values, expected {rows} x {cols}")
        return np.ascontiguousarray(data.reshape(rows, cols).astype(dtype))

    base = read("base.f32", np.float32, n, d)
    queries = read("queries.f32", np.float32, q, d)
    truth = read("truth.i32", np.int32, q, K)
    if truth.min() < 0 or truth.max() >= n:
        sys.exit(f"{directory}/truth.i32: ids outside 0..<{n}")
    return meta, base, queries, truth


def recall_at_k(found, truth):
    """Mean over queries of |found ∩ truth| / K (found: q x K ids, -1 for missing)."""
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / (truth.shape[0] * K)


def timed_search(search, queries, repeats):
    """Runs `search(queries)` `repeats` times; returns the first result's ids and the best queries/s."""
    ids, best = None, math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = search(queries)
        best = min(best, time.perf_counter() - start)
        if ids is None:
            ids = result
    return ids, queries.shape[0] / best


def best_qps(runs, threads):
    """The best queries/s at recall@10 >= RECALL_TARGET per thread count (None when not reached)."""
    out = {}
    for t in threads:
        good = [r["qps"] for r in runs if r["threads"] == t and r["recall_at_10"] >= RECALL_TARGET]
        out[str(t)] = max(good) if good else None
    return out


def sweep(name, setting, values, threads, set_threads, configure, search, queries, truth, repeats):
    """Recall and queries/s of one built index for each (thread count, setting value)."""
    runs = []
    for t in threads:
        set_threads(t)
        for v in values:
            configure(v)
            ids, qps = timed_search(search, queries, repeats)
            r = recall_at_k(ids, truth)
            runs.append({setting: v, "threads": t, "recall_at_10": round(r, 4), "qps": round(qps, 1)})
            log(f"  {name} {setting}={v} threads={t}: recall@10 {r:.4f}, {qps:,.0f} q/s")
    return runs


def measured_build(build):
    """Runs `build()` (in the peer's child process); returns its result, seconds and RSS growth."""
    before = rss_bytes()
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    after = rss_bytes()
    log(f"  built in {seconds:.1f} s")
    return built, seconds, None if before is None or after is None else after - before


def peer_report(params, seconds, growth, estimate, formula, runs, threads, args):
    """One peer's JSON entry."""
    return {
        "params": params,
        "build_seconds": round(seconds, 3),
        "build_threads": args.build_threads,
        "memory": {"rss_growth_bytes": growth, "estimate_bytes": estimate, "estimate_formula": formula},
        "runs": runs,
        "qps_at_recall_095": best_qps(runs, threads),
    }


def run_hnswlib(base, queries, truth, args):
    import hnswlib

    n, d = base.shape
    log(f"hnswlib: building M={args.m} ef_construction={args.ef_construction} on {n} x {d}")

    def build():
        index = hnswlib.Index(space="ip", dim=d)
        index.init_index(max_elements=n, M=args.m, ef_construction=args.ef_construction, random_seed=100)
        index.add_items(base, np.arange(n), num_threads=args.build_threads)
        return index

    index, seconds, growth = measured_build(build)
    count = index.get_current_count()
    # Level 0: vector + 2M links + link count + 8-byte label; upper levels: about 1/M of the
    # elements with M links + count; a per-element lock and level pointer (about 48 bytes).
    estimate = count * (d * 4 + 2 * args.m * 4 + 4 + 8 + 48) + (count // args.m) * (args.m * 4 + 4)
    runs = sweep("hnswlib", "ef", args.ef, args.threads, index.set_num_threads, index.set_ef,
                 lambda q: index.knn_query(q, k=K)[0], queries, truth, args.repeats)
    return peer_report({"M": args.m, "ef_construction": args.ef_construction, "space": "ip"}, seconds, growth,
                       estimate, "count*(4d + 8M + 4 + 8 + 48) + count/M*(4M + 4)", runs, args.threads, args)


def run_faiss_ivf(base, queries, truth, args):
    import faiss

    n, d = base.shape
    nlist = max(1, round(4 * math.sqrt(n)))
    rng = np.random.default_rng(args.seed)
    sample = base if n <= 100_000 else base[np.sort(rng.choice(n, 100_000, replace=False))]
    log(f"faiss IVF-Flat: nlist={nlist}, training on {sample.shape[0]} rows")
    faiss.omp_set_num_threads(args.build_threads)

    def build():
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(sample)
        index.add(base)
        return index

    index, seconds, growth = measured_build(build)

    def set_nprobe(p):
        index.nprobe = p

    runs = sweep("faiss_ivf", "nprobe", args.nprobe, args.faiss_threads, faiss.omp_set_num_threads, set_nprobe,
                 lambda q: index.search(q, K)[1], queries, truth, args.repeats)
    return peer_report({"nlist": nlist, "train_rows": int(sample.shape[0]), "metric": "inner-product"}, seconds, growth,
                       n * (d * 4 + 8) + nlist * d * 4, "n*(4d + 8 id bytes) + nlist*4d centroids",
                       runs, args.faiss_threads, args)


def run_faiss_hnsw(base, queries, truth, args):
    import faiss

    n, d = base.shape
    log(f"faiss HNSW-Flat: M={args.m} efConstruction={args.ef_construction}")
    faiss.omp_set_num_threads(args.build_threads)

    def build():
        index = faiss.IndexHNSWFlat(d, args.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = args.ef_construction
        index.add(base)
        return index

    index, seconds, growth = measured_build(build)

    def set_ef(ef):
        index.hnsw.efSearch = ef

    runs = sweep("faiss_hnsw", "ef", args.ef, args.faiss_threads, faiss.omp_set_num_threads, set_ef,
                 lambda q: index.search(q, K)[1], queries, truth, args.repeats)
    # Vectors + level-0 links (2M int32) + upper levels (~1/M of the nodes, M links) + offsets/levels.
    return peer_report({"M": args.m, "ef_construction": args.ef_construction, "metric": "inner-product"}, seconds, growth,
                       n * (d * 4 + 2 * args.m * 4 + 8 + 4) + (n // args.m) * args.m * 4,
                       "n*(4d + 8M + 8 offset + 4 level) + n/M*4M", runs, args.faiss_threads, args)


def isolated(runner, *data):
    """`runner(*data)` in a forked child; returns its result (sent back through a pipe)."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child():
        writer.send(runner(*data))
        writer.close()

    process = context.Process(target=child)
    process.start()
    writer.close()
    try:
        result = reader.recv()
    except EOFError:
        result = None
    process.join()
    if result is None or process.exitcode != 0:
        sys.exit(f"{runner.__name__} failed (exit code {process.exitcode})")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("dir", help="directory written by `starling bench index --export`")
    parser.add_argument("--sets", nargs="+", help="set folders to run (default: every folder with a meta.json)")
    parser.add_argument("--ef", nargs="+", type=int, default=[10, 16, 24, 32, 48, 64, 96, 128, 192, 256])
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--nprobe", nargs="+", type=int, default=[1, 2, 4, 8, 16])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="hnswlib search threads")
    parser.add_argument("--faiss-threads", nargs="+", type=int, default=[1], help="faiss search threads")
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting; the best counts")
    parser.add_argument("--peers", nargs="+", default=["hnswlib", "faiss_ivf", "faiss_hnsw"],
                        choices=["hnswlib", "faiss_ivf", "faiss_hnsw"])
    parser.add_argument("--seed", type=int, default=0, help="seeds the IVF training sample")
    args = parser.parse_args()

    if not os.path.isdir(args.dir):
        sys.exit(f"{args.dir}: not a directory")
    sets = args.sets or sorted(s for s in os.listdir(args.dir) if os.path.isfile(os.path.join(args.dir, s, "meta.json")))
    if not sets:
        sys.exit(f"{args.dir}: no <set>/meta.json found")
    runners = {"hnswlib": run_hnswlib, "faiss_ivf": run_faiss_ivf, "faiss_hnsw": run_faiss_hnsw}

    out = {"sets": {}}
    for name in sets:
        directory = os.path.join(args.dir, name)
        if not os.path.isfile(os.path.join(directory, "meta.json")):
            sys.exit(f"{directory}: no meta.json")
        meta, base, queries, truth = load_set(directory)
        log(f"== {name}: {meta['count']} x {meta['dimension']}, {meta['queries']} queries")
        entry = {"meta": meta}
        for peer in args.peers:
            entry[peer] = isolated(runners[peer], base, queries, truth, args)
        out["sets"][name] = entry
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
