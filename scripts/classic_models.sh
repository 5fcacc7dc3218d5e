#!/usr/bin/env bash
# The five classic recommenders on two protocols, with a markdown + SVG report per protocol:
#   - MovieLens-100K, random 80/20 split per interaction (seed 42), every rating an interaction,
#     full ranking over all items except the user's training items, K = 10 and 20;
#   - the NCF ML-1M leave-one-out split, sampled protocol (the 99 given negatives), K = 10.
# Hyper-parameters were chosen on ML-100K's validation slice (`--validation`: 70/10 carved from the
# training 80%, never the test 20%) and are used unchanged on NCF ML-1M.
# Usage: scripts/classic_models.sh [OUTPUT_DIR (default docs/results)]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/results}"
data="${STARLING_DATA:-../shared/datasets}"
swift build -c release --product starling >/dev/null
bin=.build/release/starling
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
models=(
  "popularity"
  "itemknn --neighbours 200"
  "ease --lambda 250"
  "ials --factors 64 --iterations 15 --regularization 50 --alpha 5"
  "bpr --factors 64 --iterations 300 --learning-rate 0.01 --regularization 0.01"
)
for dataset in ml-100k ncf-ml-1m; do
  reports=()
  for spec in "${models[@]}"; do
    read -r -a args <<<"$spec"
    name="${args[0]}"
    "$bin" train "${args[@]}" --dataset "$dataset" --data "$data" \
      --output "$tmp/$name-$dataset.safetensors" --report "$out/classic-$dataset-$name.json"
    reports+=("$out/classic-$dataset-$name.json")
  done
  "$bin" report "${reports[@]}" --title "Classic models on $dataset" --output "$out/classic-$dataset.md"
done
