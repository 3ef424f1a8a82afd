#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from source through the Go module
# proxy, into a cache outside the checkout keyed by version, and prints the directory to use as
# KUBEBUILDER_ASSETS on stdout. Progress goes to stderr. Safe to run concurrently: a lock file
# serialises builders and the finished directory appears by an atomic rename.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
STAGING_VERSION="${STAGING_VERSION:-0.${K8S_VERSION#*.}}"
ETCD_VERSION="${ETCD_VERSION:-3.6.6}"
CACHE_ROOT="${FTRACK_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ftrack-operator}"
KEY="k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-$(go env GOOS)-$(go env GOARCH)"
DEST="${CACHE_ROOT}/envtest/${KEY}"

say() { printf 'envtest: %s\n' "$*" >&2; }

complete() {
  [[ -x "$1/kube-apiserver" && -x "$1/etcd" && -f "$1/.complete" ]]
}

if complete "$DEST"; then
  say "reusing cached control plane in $DEST (kube-apiserver v${K8S_VERSION}, etcd v${ETCD_VERSION}); nothing to build"
  printf '%s\n' "$DEST"
  exit 0
fi

mkdir -p "${CACHE_ROOT}/envtest"
exec 9>"${DEST}.lock"
if ! flock -n 9; then
  say "another build of $KEY is running; waiting for it"
  flock 9
fi
if complete "$DEST"; then
  say "another run finished the build; reusing $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

WORK="$(mktemp -d "${CACHE_ROOT}/envtest/.build-${KEY}.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

# progress prints one line per 25 compiled packages, with the elapsed time, so that a
# ten-minute cold build never looks stalled.
progress() {
  local what="$1" n=0 start=$SECONDS line
  while IFS= read -r line; do
    case "$line" in
      *" "*|"") printf '%s\n' "$line" >&2 ;; # errors and warnings pass through whole
      *) n=$((n + 1))
         if (( n % 25 == 0 )); then say "$what: $n packages compiled ($((SECONDS - start))s) - $line"; fi ;;
    esac
  done
  say "$what: done, $n packages compiled in $((SECONDS - start))s"
}

build_apiserver() {
  local dir="$WORK/kube-apiserver"
  mkdir -p "$dir"
  cd "$dir"
  go mod init envtest.local/kube-apiserver >/dev/null 2>&1
  say "resolving k8s.io/kubernetes v${K8S_VERSION} and its staging modules at v${STAGING_VERSION}"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$gomod" ]] || { say "could not read the go.mod of k8s.io/kubernetes v${K8S_VERSION}"; exit 1; }
  local staging=()
  while read -r mod; do staging+=("$mod"); done < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod")
  (( ${#staging[@]} > 0 )) || { say "no staging modules found in $gomod"; exit 1; }
  local args=(-require "k8s.io/kubernetes@v${K8S_VERSION}")
  for mod in "${staging[@]}"; do args+=(-replace "${mod}=${mod}@v${STAGING_VERSION}"); done
  go mod edit "${args[@]}"
  say "fetching modules for kube-apiserver (${#staging[@]} staging modules replaced)"
  go get "k8s.io/kubernetes/cmd/kube-apiserver@v${K8S_VERSION}" 2>&1 | tail -n 3 >&2 || true
  say "compiling kube-apiserver v${K8S_VERSION} (about 10 minutes cold on 2 cores)"
  go build -v -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*} -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")" \
    -o "$WORK/out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver 2>&1 | progress kube-apiserver
  [[ -x "$WORK/out/kube-apiserver" ]] || { say "kube-apiserver build failed"; exit 1; }
}

build_etcd() {
  local dir="$WORK/etcd"
  mkdir -p "$dir"
  cd "$dir"
  go mod init envtest.local/etcd >/dev/null 2>&1
  go mod edit -require "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
  say "fetching modules for etcd v${ETCD_VERSION}"
  go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" 2>&1 | tail -n 3 >&2 || true
  say "compiling etcd v${ETCD_VERSION} (about 2 minutes cold)"
  go build -v -trimpath -ldflags "-s -w" -o "$WORK/out/etcd" "go.etcd.io/etcd/server/v3" 2>&1 | progress etcd
  [[ -x "$WORK/out/etcd" ]] || { say "etcd build failed"; exit 1; }
}

mkdir -p "$WORK/out"
build_etcd
build_apiserver
"$WORK/out/kube-apiserver" --version >&2
# sed reads all of etcd's output: head would exit after one line, and etcd writing the next
# one would die of SIGPIPE, which pipefail turns into a failed build (exit 141).
"$WORK/out/etcd" --version | sed -n 1p >&2
touch "$WORK/out/.complete"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
say "control plane ready in $DEST"
printf '%s\n' "$DEST"
