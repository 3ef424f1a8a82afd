#!/usr/bin/env bash
# Shows that `make verify` passes on a clean tree and fails when a generated file is stale: in a
# throwaway clone it commits a change to an API doc comment (which the CRD's description must
# follow) without regenerating, and expects `make verify` to fail and name the stale CRD.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

git clone -q "$root" "$tmp/clone"
cd "$tmp/clone"
git config user.email verify@selftest.invalid
git config user.name verify-selftest

echo "verify-selftest: a clean tree must pass"
make --no-print-directory verify BIN="$root/bin" >"$tmp/clean.log" 2>&1 || { cat "$tmp/clean.log" >&2; echo "verify-selftest: make verify failed on a clean tree" >&2; exit 1; }

echo "verify-selftest: a stale CRD must fail"
file=api/v1alpha1/ftrackentity_types.go
grep -q $'^\tEntityType string' "$file" || { echo "verify-selftest: the EntityType field was not found in $file" >&2; exit 1; }
perl -pi -e 's{^(\tEntityType string)}{\t// Changed without regenerating.\n$1}' "$file"
git diff --quiet && { echo "verify-selftest: the edit changed nothing" >&2; exit 1; }
git commit -qam "change a doc comment without regenerating"
if make --no-print-directory verify BIN="$root/bin" >"$tmp/stale.log" 2>&1; then
  cat "$tmp/stale.log" >&2
  echo "verify-selftest: make verify passed although config/crd/bases is stale" >&2
  exit 1
fi
grep -q 'ftrack-operator.dev_ftrackentities.yaml' "$tmp/stale.log" || { cat "$tmp/stale.log" >&2; echo "verify-selftest: the failure does not name the stale CRD" >&2; exit 1; }
tail -n 4 "$tmp/stale.log"
echo "verify-selftest: make verify passes on a clean tree and fails on a stale one"
