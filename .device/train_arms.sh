#!/bin/bash
# Device job: two or more arms of train_rwconv.sh, one after the other in one call, from the same
# weights, seed and step cap, so they differ only in their own flags (an experiment, not more steps):
#   bash .device/train_arms.sh MINUTES STEPS "NAME=FLAGS" ["NAME=FLAGS" ...] -- [flags every arm takes]
#   e.g. CNUM=16 LR=0.00003 bash .device/train_arms.sh 4.2 65400 "control=" "seam=--seam-weight 0.2" -- \
#          --data (the nine sets) --channels-last --compile                        (carry: [".gpu"])
# One after the other, not side by side: compiled, two arms sharing the GPU got less than half
# its rate each (card run 10). The first arm pays the compile (~70 s of its time limit on a fresh
# machine), the next ones find its cache (~10 s), so give STEPS that the first reaches inside
# MINUTES (~17 steps/s at batch 32 after the compile): a time limit alone would give the later
# arms more steps. Each arm's files (7) come back as NAME.tgz, since a call returns 8 files at
# most: here `tar xzf FILES_AT/NAME.tgz -C train_runs/`, then
# `inpaintbench compare train_runs/seam/demo train_runs/control/demo`.
# Tested here on the CPU: DEVICE=cpu WORKERS=0 BATCH=2 DEMO_LIMIT=1 OUT=/tmp/o bash .device/train_arms.sh 0.3 62752 "a=" "b=--seam-weight 0.2" --
set -x
MIN=$1; STEPS=$2; shift 2
ARMS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do ARMS+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#ARMS[@]} -gt 0 ] || { echo "train_arms.sh: no arm given (\"NAME=FLAGS\")"; exit 2; }
source .device/setup.sh; export SETUP_DONE=1
ROOT=$OUT
for arm in "${ARMS[@]}"; do
  name=${arm%%=*}; flags=${arm#*=}
  # $flags unquoted on purpose: an arm's flags are words
  OUT=$ROOT ARM=$name bash .device/train_rwconv.sh "$MIN" "$STEPS" "$@" $flags
  tar czf "$ROOT/$name.tgz" -C "$ROOT" "$name" && rm -r "${ROOT:?}/$name"
done
ls -la "$ROOT"
