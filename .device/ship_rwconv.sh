#!/bin/bash
# Ship rwconv weights that a device job brought back, here on the CPU, the way each shipping so far
# was done by hand (8 minutes on this CPU, most of it the three demo runs):
#   bash .device/ship_rwconv.sh TRAIN_DIR "HARDWARE LINE FOR THE CARD"
# TRAIN_DIR holds the job's files (rwconv-c16.pt or rwconv-c32.pt, val.csv, train_log.csv, demo/),
# copied from the call's files_at, e.g. train_runs/gpu-h200-d. Decide first that they are better:
#   inpaintbench compare TRAIN_DIR/demo reports/demo/runs/rwconv
# Then this: the file's config `out` (the GPU machine's /tmp/run) becomes TRAIN_DIR, the file
# becomes methods/rwconv/weights/rwconv.pt, the demo runs of rwconv, rwconv+poisson and
# rwconv+hflip+poisson are redone with every metric, the report, the CI gate baseline and the CPU
# benchmark (reports/bench/rwconv.json names the weights it timed) are regenerated and the card's
# table and curve rewritten, the run's train_log.csv and val.csv copied beside the weights (the card's notes below `<!-- notes -->` are kept:
# add the run to them, and the new numbers to the README, by hand). Nothing is committed.
set -euo pipefail
DIR=${1:?TRAIN_DIR}; HW=${2:?hardware line}
EXPORT=$(ls "$DIR"/rwconv-c*.pt | head -1)
python3 - "$EXPORT" "$DIR" <<'PY'
import sys, torch
src, out = sys.argv[1], sys.argv[2]
ck = torch.load(src, map_location="cpu", weights_only=False)
ck["config"]["out"] = out
torch.save(ck, "methods/rwconv/weights/rwconv.pt")
print(f"methods/rwconv/weights/rwconv.pt <- {src} (step {ck['step']}, validation {ck['best_val']})")
PY
RUNS=reports/demo/runs
rm -rf "$RUNS/rwconv" "$RUNS/rwconv+poisson" "$RUNS/rwconv+hflip+poisson"
inpaintbench run --method rwconv --dataset demo --out "$RUNS/rwconv"
inpaintbench run --method rwconv --blend poisson --dataset demo --out "$RUNS/rwconv+poisson"
inpaintbench run --method rwconv --self-ensemble hflip --blend poisson --dataset demo --out "$RUNS/rwconv+hflip+poisson"
inpaintbench report
gate=$(mktemp -d)
inpaintbench run --method rwconv --dataset demo --limit 2 --out "$gate/rwconv"
inpaintbench check "$gate/rwconv" --baseline reports/baseline.json --update
inpaintbench bench rwconv
python3 -m methods.training.model_card rwconv "$DIR" --hardware "$HW"
# the run's own logs beside the weights they made (they stayed at step 20,500's for five shipments)
cp "$DIR/train_log.csv" methods/rwconv/weights/train_log.csv
cp "$DIR/val.csv" methods/rwconv/weights/val_curve.csv
git status --short
