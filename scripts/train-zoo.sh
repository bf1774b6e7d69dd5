#!/usr/bin/env bash
# Train a model-zoo network on the full MNIST with the CLI and evaluate it on all 10,000 test
# images; the log and model go to $RUNS (default /work/runs) as zoo-<model>.{log,safetensors}.
# Runs the TypeScript sources through tsx, so no build is needed.
#   scripts/train-zoo.sh lenet 12 0.003          # model, epochs, Adam learning rate
#   nohup scripts/train-zoo.sh deep 20 0.001 &   # long runs: in the background
set -euo pipefail
model=${1:?usage: scripts/train-zoo.sh MODEL [EPOCHS] [LR] [extra train flags...]}
epochs=${2:-10}
lr=${3:-0.001}
shift $(( $# < 3 ? $# : 3 ))
runs=${RUNS:-/work/runs}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$runs"
name=zoo-$(basename "$model" .json)
log=$runs/$name.log
cd "$root"
{
  echo "# $(date -u +%FT%TZ) scripts/train-zoo.sh $model $epochs $lr $* ($(nproc) cores, node $(node --version))"
  start=$(date +%s)
  node --import tsx src/cli/main.ts train --model "$model" --epochs "$epochs" --optimizer adam --lr "$lr" \
    --backend "${BACKEND:-js}" --out "$runs/$name.safetensors" "$@"
  echo "# train wall time: $(( $(date +%s) - start )) s"
  node --import tsx src/cli/main.ts eval --model "$runs/$name.safetensors" --backend "${BACKEND:-js}"
  echo "# done $(date -u +%FT%TZ)"
} >"$log" 2>&1
