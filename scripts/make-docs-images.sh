#!/usr/bin/env bash
# Regenerates the pictures the README shows (docs/*.png) from a trained model file, e.g. the
# reference run `scratchnet train --out he20.safetensors` (20 epochs, Adam, He init, seed 1).
#   scripts/make-docs-images.sh he20.safetensors [std.safetensors]
# The optional second model (e.g. `scratchnet train --epochs 1 --init 0.01`, the book's
# initialisation) gives docs/filters-std.png.
# The sample image (assets/sample.png) comes from scripts/make-sample-image.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: scripts/make-docs-images.sh MODEL.safetensors [STD_MODEL.safetensors]}
STD_MODEL=${2:-}
viz() { node --import tsx src/cli/main.ts viz "$@" --model "$MODEL"; }
mkdir -p docs
viz filters --out docs/filters.png
viz features --out docs/features.png
viz curves --out docs/curves.png
viz confusion --out docs/confusion.png
viz misclassified --count 30 --out docs/misclassified.png
viz layers --index 0 --out docs/layers.png
if [ -n "$STD_MODEL" ]; then
  node --import tsx src/cli/main.ts viz filters --model "$STD_MODEL" --out docs/filters-std.png
fi
