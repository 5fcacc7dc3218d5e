#!/usr/bin/env python3
"""A Python peer for `starling bench serve`: implicit's ALS on MovieLens-1M behind uvicorn + Starlette.

It is what a team would stand up in Python: `implicit` 0.7 ALS trained on all 1,000,209 MovieLens-1M
pairs with the settings `bench serve` gives Starling (64 factors, lambda 50, 10 iterations; implicit's
confidence is alpha * value, Starling's 1 + alpha * value, so implicit alpha 6 = Starling alpha 5),
served as GET /recommend/{user}?k=10 -> {"user", "items": [{"item", "score"}]}, the user's own items
filtered out (implicit's exact brute-force `recommend`). Two single-process uvicorn replicas on two
ports (the machine's two cores), one BLAS thread each; the load generator spreads its connections over
both. (uvicorn's own `--workers 2` mode answered keep-alive requests only after ~44 ms here, the
signature of Nagle's algorithm meeting delayed ACKs, so it is not used.) Only the recommend route
exists: implicit has no durable event ingestion to compare.

Usage: scripts/serve_implicit_peer.py [--data DIR] [--replicas 2]
Prints `listening on PORT PORT ...` once every replica answers, then serves until killed.
Needs: pip install implicit numpy scipy uvicorn starlette.
"""
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import scipy.sparse as sp


def data_root(explicit):
    for candidate in [explicit, os.environ.get("STARLING_DATA"), os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")]:
        if candidate and os.path.isdir(os.path.join(candidate, "ml-1m")):
            return candidate
    sys.exit("ml-1m not found: pass --data or set STARLING_DATA")


def train(root, path):
    from implicit.als import AlternatingLeastSquares
    users, items = [], []
    with open(os.path.join(root, "ml-1m", "interactions_implicit.dat")) as f:
        for line in f:
            u, i = line.strip().split("::")[:2]
            users.append(u); items.append(i)
    user_ids, u_idx = np.unique(np.array(users), return_inverse=True)
    item_ids, i_idx = np.unique(np.array(items), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(u_idx), dtype=np.float32), (u_idx, i_idx)), shape=(len(user_ids), len(item_ids)))
    model = AlternatingLeastSquares(factors=64, regularization=50, alpha=6, iterations=10, random_state=42, num_threads=2)
    model.fit(matrix, show_progress=False)
    np.savez(path, user_factors=model.user_factors, item_factors=model.item_factors, user_ids=user_ids, item_ids=item_ids,
             indptr=matrix.indptr, indices=matrix.indices)
    print(f"implicit ALS: {len(user_ids)} users x {len(item_ids)} items, {matrix.nnz} pairs", file=sys.stderr)


def make_app():
    """The Starlette app of one worker (loads the factors written by `train`)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    saved = np.load(os.environ["STARLING_PEER_MODEL"], allow_pickle=False)
    model = AlternatingLeastSquares(factors=64)
    model.user_factors = saved["user_factors"]
    model.item_factors = saved["item_factors"]
    matrix = sp.csr_matrix((np.ones(len(saved["indices"]), dtype=np.float32), saved["indices"], saved["indptr"]),
                           shape=(len(saved["user_ids"]), len(saved["item_ids"])))
    index = {u: k for k, u in enumerate(saved["user_ids"].tolist())}
    item_ids = saved["item_ids"].tolist()

    async def recommend(request):
        user = request.path_params["user"]
        k = int(request.query_params.get("k", "10"))
        row = index.get(user)
        if row is None:
            return JSONResponse({"error": f"user '{user}' does not exist"}, status_code=404)
        ids, scores = model.recommend(row, matrix[row], N=k, filter_already_liked_items=True)
        return JSONResponse({"user": user, "items": [{"item": item_ids[i], "score": float(s)} for i, s in zip(ids, scores)]})

    return Starlette(routes=[Route("/recommend/{user}", recommend)])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    # SIGTERM (how bench_serve_vs_python.sh stops it) ends through `finally`: replicas stopped, files removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    model_dir = tempfile.mkdtemp(prefix="starling-peer-")
    servers = []
    try:
        model_path = os.path.join(model_dir, "als.npz")
        train(data_root(args.data), model_path)
        ports = [free_port() for _ in range(args.replicas)]
        env = dict(os.environ, STARLING_PEER_MODEL=model_path, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
        servers = [subprocess.Popen([sys.executable, "-m", "uvicorn", "serve_implicit_peer:make_app", "--factory", "--host", "127.0.0.1",
                                     "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env) for port in ports]
        for port in ports:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/recommend/1?k=10", timeout=1).read()
                    break
                except Exception:
                    time.sleep(0.1)
        print("listening on " + " ".join(map(str, ports)), flush=True)
        for s in servers:
            s.wait()
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            s.wait()
        shutil.rmtree(model_dir, ignore_errors=True)

if __name__ == "__main__":
    main()
