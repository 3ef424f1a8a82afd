#!/usr/bin/env bash
# Runs every fuzz target of the module, one by one (Go runs one fuzz target per invocation),
# each for a bounded budget; any failure fails the run and leaves the crashing input under the
# package's testdata/fuzz for a regression test.
#
# The budget is a number of executions ("100000x", the default) rather than a duration: Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded" failure when a
# duration budget ends while a worker is busy (golang/go#75804, fixed in Go 1.27), which a
# loaded machine hits. A duration ("10s") is still accepted for local runs. Every target also
# runs under a -timeout, so that a hung target fails instead of holding CI.
set -euo pipefail
budget="${1:-100000x}"
timeout="${FUZZ_TIMEOUT:-5m}"
cd "$(dirname "$0")/.."
status=0
while IFS=: read -r file line; do
  pkg="./$(dirname "$file")"
  name="$(sed -n "${line}p" "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/')"
  echo "fuzz: $name in $pkg, budget $budget"
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$budget" -timeout="$timeout" "$pkg"; then
    echo "fuzz: $name FAILED" >&2
    status=1
  fi
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' | cut -d: -f1,2)
exit "$status"
