#!/usr/bin/env bash
# `starling bench online`, then its Python peer (implicit's ALS partial_fit_users / partial_fit_items on the
# same MovieLens-1M stream shape, scripts/online_implicit_peer.py, 1 and 2 threads), one after the other on the
# same machine; prints one JSON object with the three results and the ratios of training events/s.
# Usage: scripts/bench_online_vs_implicit.sh > bench-online.json
# Needs: swift build -c release; pip install implicit numpy scipy.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${STARLING_DATA:-../shared/datasets}
starling=$(mktemp); one=$(mktemp); two=$(mktemp)
trap 'rm -f "$starling" "$one" "$two"' EXIT
.build/release/starling bench online --data "$data" > "$starling"
python3 scripts/online_implicit_peer.py --data "$data" --threads 1 > "$one"
python3 scripts/online_implicit_peer.py --data "$data" --threads 2 > "$two"
python3 - "$starling" "$one" "$two" <<'PY'
import json, sys
s, one, two = (json.load(open(p)) for p in sys.argv[1:4])
out = {"starling": s, "implicit_1_thread": one, "implicit_2_threads": two,
       "training_events_per_s_ratio_vs_implicit_1_thread": round(s["training_events_per_s"] / one["training_events_per_s"], 2),
       "training_events_per_s_ratio_vs_implicit_2_threads": round(s["training_events_per_s"] / two["training_events_per_s"], 2)}
print(json.dumps(out, indent=2))
PY
