# ftrack-operator — run `make help` for the targets.

IMG ?= ftrack-operator:dev
BIN := $(CURDIR)/bin
GO ?= go

CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CRD_REF_DOCS_VERSION ?= v0.3.0
HELM_VERSION ?= v4.3.2

CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
CRD_REF_DOCS := $(BIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
HELM := $(BIN)/helm-$(HELM_VERSION)

# Go test flags; CI keeps the defaults.
TEST_FLAGS ?= -race -count=1 -timeout 40m
FUZZTIME ?= 100000x
LDFLAGS ?= -s -w

.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash -o pipefail

##@ General

.PHONY: help
help: ## Show every target with a one-line description.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs (and the chart's copy), the RBAC role and the webhook configurations from the code markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./api/...;./controllers/...;./internal/webhook/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac \
		output:webhook:artifacts:config=config/webhook
	$(GO) run ./hack/crd-reflow config/crd/bases/*.yaml
	rm -f charts/ftrack-operator/crds/*.yaml && cp config/crd/bases/*.yaml charts/ftrack-operator/crds/

.PHONY: api-docs
api-docs: $(CRD_REF_DOCS) ## Generate the API reference docs/api.md from the API types.
	$(CRD_REF_DOCS) --source-path=./api/v1alpha1 --config=docs/crd-ref-docs.yaml --renderer=markdown \
		--templates-dir=docs/crd-ref-docs --output-mode=single --output-path=docs/api.md

.PHONY: tidy
tidy: ## Make go.mod and go.sum list exactly the modules the code imports.
	$(GO) mod tidy

.PHONY: fmt
fmt: ## Format the Go code with gofmt.
	gofmt -s -w $$(git ls-files '*.go') $$(git ls-files --others --exclude-standard '*.go')

.PHONY: vet
vet: ## Run go vet on every package.
	$(GO) vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) $(HELM) ## Run golangci-lint with the linters of .golangci.yml, and helm lint on the chart.
	$(GOLANGCI_LINT) run ./...
	$(HELM) lint --strict charts/ftrack-operator
	$(HELM) lint --strict charts/ftrack-operator --set installMode=namespaced --set 'watchNamespaces={studio}' --set webhook.certManager.enabled=true --set metrics.serviceMonitor.enabled=true

.PHONY: envtest
envtest: ## Build (or reuse) kube-apiserver and etcd for envtest; prints their directory.
	@hack/envtest.sh

.PHONY: test
test: $(HELM) ## Run every test (unit, envtest, emulator, JavaScript client conformance, the Helm chart).
	HELM=$(HELM) KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" $(GO) test $(TEST_FLAGS) ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME executions (default 100000x; a duration also works).
	@hack/fuzz.sh $(FUZZTIME)

.PHONY: verify
verify: generate manifests api-docs tidy fmt ## Regenerate, tidy and format, then fail if the tree changed.
	@hack/verify-clean.sh

BENCH_FLAGS ?=

.PHONY: bench
bench: ## Run the operator benchmarks on envtest and the emulator (see docs/benchmarks.md).
	$(GO) run ./hack/bench $(BENCH_FLAGS)

.PHONY: bench-go
bench-go: ## Run the Go micro-benchmarks of every package.
	$(GO) test -run='^$$' -bench=. -benchmem ./...

##@ Build

.PHONY: build
build: ## Build the release binary (the manager alone) into bin/ftrack-operator.
	CGO_ENABLED=0 $(GO) build -tags release -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ftrack-operator .

.PHONY: run
run: manifests generate ## Run the manager against the cluster of the current kubeconfig.
	$(GO) run . --leader-elect=false

.PHONY: dev
dev: ## Run the whole thing locally: control plane, emulator, operator and samples.
	@# Built and run rather than go run: go run exits 1 when Ctrl-C stops it, even though the
	@# command itself stops cleanly and exits 0.
	$(GO) build -o $(BIN)/ftrack-operator-dev .
	$(BIN)/ftrack-operator-dev dev

RELEASE_IMAGE ?= ftrack-operator
.PHONY: release
release: ## Write a release into dist/: install.yaml, the kubectl-ftrack archives, a krew manifest, checksums (VERSION=vX.Y.Z).
	@test -n "$(VERSION)" || { echo "make release needs VERSION, e.g. make release VERSION=v0.2.0"; exit 2; }
	$(GO) run ./hack/release --version $(VERSION) --image $(RELEASE_IMAGE) --out dist

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: deploy
deploy: manifests ## Apply config/default to the cluster of the current kubeconfig.
	kubectl apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Delete config/default from the cluster of the current kubeconfig.
	kubectl delete --ignore-not-found -k config/default

##@ Tools

$(CONTROLLER_GEN):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	@mv $(BIN)/controller-gen $@

$(CRD_REF_DOCS):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	@mv $(BIN)/crd-ref-docs $@

$(HELM):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
	@mv $(BIN)/helm $@

$(GOLANGCI_LINT):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@mv $(BIN)/golangci-lint $@
