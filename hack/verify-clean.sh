#!/usr/bin/env bash
# Fails when the working tree differs from what is committed: run after the generators, it
# catches a generated file (CRDs, RBAC, DeepCopy) that was not regenerated, or unformatted code.
set -euo pipefail
changes="$(git status --porcelain --untracked-files=all -- . ':!bin')"
if [[ -n "$changes" ]]; then
  echo "verify: generated or formatted files are out of date; run 'make generate manifests fmt' and commit:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat >&2 || true
  exit 1
fi
echo "verify: generated files are up to date"
