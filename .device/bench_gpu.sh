#!/bin/bash
# Device job: `inpaintbench bench rwconv --no-cpu` on the lent GPU (inference at batch 64 bf16
# channels_last, training images/s at batch 32 eager and with the trainer's --channels-last and
# --compile, eager memory traffic; the compile takes a minute or more) for the shipped weights and
# for each weights file named; the JSON files come back under $OUT as rwconv-gpu-<card>[-<name>].json.
#   bash .device/bench_gpu.sh [WEIGHTS ...]      (carry: [".gpu", each WEIGHTS file]; stash.sh first)
set -x
source .device/setup.sh
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -oE 'H100|H200|A100' | tr A-Z a-z)
inpaintbench bench rwconv --no-cpu --out $OUT/rwconv-gpu-${card:-gpu}.json
for w in "$@"; do
  inpaintbench bench rwconv --no-cpu --weights "$w" --out $OUT/rwconv-gpu-${card:-gpu}-$(basename "$w" .pt).json
done
ls -la $OUT
