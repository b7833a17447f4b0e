#!/bin/bash
# The working tree a device call sends must stay under 64 MiB; the tracked tree alone is ~66 MB
# (reports/ 32 MB, the other methods' weights ~30 MB, tests/fixtures 1.2 MB). A training job needs none of that.
#   bash .device/stash.sh          move reports/ and the other methods' weights out to $STASH (/tmp/stash);
#                                  masks/ stays (2 MB): the job scores its export on the demo set
#   bash .device/stash.sh restore  move them back (run it after the call, whatever happened)
set -euo pipefail
STASH=${STASH:-/tmp/stash}
PATHS="reports methods/pconv/weights methods/gated/weights methods/edgeconnect/weights methods/rwconv/weights/ablations tests/fixtures"
if [ "${1:-}" = restore ]; then
  for p in $PATHS; do [ -e "$STASH/$p" ] && mkdir -p "$(dirname "$p")" && mv "$STASH/$p" "$p"; done
  git status --short | head
else
  for p in $PATHS; do mkdir -p "$STASH/$(dirname "$p")" && mv "$p" "$STASH/$p"; done
fi
du -sh --exclude=.git --exclude=train_runs . 2>/dev/null
