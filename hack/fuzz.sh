#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each (default 10s). Go runs one fuzz
# target per invocation, so this finds them and runs them one by one; any failure fails the run
# and leaves the crashing input under the package's testdata/fuzz for a regression test.
set -euo pipefail
fuzztime="${1:-10s}"
cd "$(dirname "$0")/.."
status=0
while IFS=: read -r file line; do
  pkg="./$(dirname "$file")"
  name="$(sed -n "${line}p" "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/')"
  echo "fuzz: $name in $pkg for $fuzztime"
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"; then
    echo "fuzz: $name FAILED" >&2
    status=1
  fi
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' | cut -d: -f1,2)
exit "$status"
