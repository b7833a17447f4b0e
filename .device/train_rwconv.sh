#!/bin/bash
# Device job: train rwconv on the lent GPU from the shipped weights and send back what fits.
#   bash .device/train_rwconv.sh MINUTES STEPS [more trainer flags]     (carry: [".gpu"], see pack.sh)
# CNUM (default 16, the shipped width; 32 is the paper's: the shipped weights are then widened,
# methods/rwconv/widen.py, and each image costs twice the device time: card run 10),
# LR (default 5e-5, cosine-restart over the added steps; the shipped weights ended a cosine near
# lr 0, and on the CPU 2 steps of batch 2 at 1e-4 cost them 1.5 dB of validation PSNR, 3.3 dB
# widened, against 0.2-0.3 dB after 5-10 steps at 2e-5), BATCH (32), DEVICE (cuda), WORKERS (12).
# A cnum-32 checkpoint with Adam state is ~57 MB, over the 16 MiB a returned file may be, so the run
# folder stays on the machine; the fp16 export (best step), val.csv, train_log.csv, the log and a
# demo-set run of the export come back under $OUT (7 files; the run in $OUT/demo). To go on in a later call, put them in
# train_runs/c$CNUM/ here (train_runs/c16/) and carry it too: the job then starts from that export (fresh
# Adam state). The first --compile on a machine took ~66 s of the time limit (the model alone, to run 16; the loss network is compiled too since); a warm machine keeps
# the cache (7 s in the next call).
# Tested here on the CPU: DEVICE=cpu WORKERS=0 BATCH=2 DEMO_LIMIT=1 OUT=/tmp/o bash .device/train_rwconv.sh 0.3 17502
# ARM=NAME keeps a run apart (its own run folder, $OUT/NAME/), so two arms can share one GPU, which
# one eager run leaves mostly idle (launch-bound: 16% of the H200's bandwidth, 2.5% of its bf16 peak;
# one data worker builds ~300 crops/s, so 6 each are plenty). Set up once, then both:
#   source .device/setup.sh; export SETUP_DONE=1
#   WORKERS=6 ARM=a CNUM=16 bash .device/train_rwconv.sh 8 N ... & WORKERS=6 ARM=b CNUM=32 bash .device/train_rwconv.sh 8 N ...; wait
# Each arm's images/s then says what sharing cost; compare arms with each other, not with a run alone.
# Measured with --compile (card run 10): 227 + 108 images/s for two arms against ~490 for one
# run alone, so compiled, sharing costs each arm more than half; it pays only eager.
set -x
MIN=$1; STEPS=$2; shift 2
[ "${SETUP_DONE:-0}" = 1 ] || source .device/setup.sh
[ -n "${ARM:-}" ] && OUT=$OUT/$ARM && mkdir -p $OUT
INIT=methods/rwconv/weights/rwconv.pt
[ -f train_runs/c${CNUM:-16}/rwconv-c${CNUM:-16}.pt ] && INIT=train_runs/c${CNUM:-16}/rwconv-c${CNUM:-16}.pt
# a machine kept warm between calls still holds the last call's run folder, and the trainer would
# resume it instead of starting from INIT (it happened once: 320 steps of the wrong arm). KEEP_RUN=1
# resumes it on purpose: one run over two calls (same STEPS and flags, the second fired as soon as
# the first returns, within the 30 s a machine stays warm), Adam state and schedule carried on; on a
# fresh machine there is nothing to resume and it starts from INIT like any call.
RUN=/tmp/run${ARM:+-$ARM}; DEMO_RUN=/tmp/demo_run${ARM:+-$ARM}
[ "${KEEP_RUN:-0}" = 1 ] || rm -rf $RUN; rm -rf $DEMO_RUN
inpaintbench train rwconv --out $RUN --device ${DEVICE:-cuda} --precision bf16 --workers ${WORKERS:-12} --cnum ${CNUM:-16} \
  --crop 256 --batch-size ${BATCH:-32} --lr ${LR:-0.00005} --lr-schedule cosine-restart --shuffle-channels --steps $STEPS \
  --val-every 250 --time-limit-min $MIN --init-from $INIT "$@" > $OUT/train.out 2>&1
python3 -m methods.rwconv.train --out $RUN --export $OUT/rwconv-c${CNUM:-16}.pt
cp $RUN/val.csv $RUN/train_log.csv $OUT/
# the exported weights over the demo set on the GPU (pixel metrics; seconds there); $OUT/demo comes
# back as a run folder: `inpaintbench compare FILES_AT/demo reports/demo/runs/rwconv` says per pair
# whether to ship (then `bash .device/ship_rwconv.sh DIR HARDWARE` rescores it on the CPU here and
# redoes report, gate and card); DEMO_LIMIT=N for a short test
inpaintbench run --method rwconv --weights $OUT/rwconv-c${CNUM:-16}.pt --label rwconv-c${CNUM:-16} --dataset demo \
  --device ${DEVICE:-cuda} --no-deep-metrics ${DEMO_LIMIT:+--limit $DEMO_LIMIT} --out $DEMO_RUN > $OUT/demo.out 2>&1 \
  && mkdir -p $OUT/demo && cp $DEMO_RUN/records.jsonl $DEMO_RUN/manifest.json $OUT/demo/
tail -20 $OUT/train.out; cat $OUT/val.csv; ls -la $OUT
