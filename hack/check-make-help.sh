#!/usr/bin/env bash
# Fails unless `make help` lists every phony target of the Makefile with a description.
set -euo pipefail
cd "$(dirname "$0")/.."
help="$(make --no-print-directory help | sed 's/\x1b\[[0-9;]*m//g')"
missing=0
for target in $(sed -n 's/^\.PHONY: *//p' Makefile); do
  line="$(grep -E "^  ${target} +[^ ]" <<<"$help" || true)"
  if [[ -z "$line" ]]; then
    echo "make help does not describe the target '$target'" >&2
    missing=1
  fi
done
(( missing == 0 )) && echo "make help describes all $(sed -n 's/^\.PHONY: *//p' Makefile | wc -l) targets"
exit "$missing"
