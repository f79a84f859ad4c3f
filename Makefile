# eslink: every workflow is a make target. `make test` is what CI runs.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
export GOFLAGS ?= -buildvcs=false
BIN := $(CURDIR)/bin
K8S_VERSION := 1.34.3
export KUBEBUILDER_ASSETS := $(BIN)/k8s/$(K8S_VERSION)
FUZZTIME ?= 20s
TEST_TIMEOUT ?= 25m
# Packages: `make xpkg` tags them xpkg.crossplane.io/eslink/<name>:$(XPKG_VERSION);
# `make xpkg-push XPKG_REGISTRY=registry.example.com/eslink` pushes them there.
export XPKG_VERSION ?= v0.1.0
XPKG_REGISTRY ?=
XPKG_CA_BUNDLE ?=
XPKGS := provider-eslink function-eslink configuration-eslink-namespaced configuration-eslink-legacy

.PHONY: help
help: ## Show the targets.
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## Download Go modules.
	@echo "==> deps: downloading Go modules"
	@$(GO) mod download

.PHONY: generate
generate: ## Regenerate deepcopy, managed-resource methods, CRDs and XRDs.
	@echo "==> generate: controller-gen, angryjet, genxrd"
	@cd apis && $(GO) generate -tags generate ./...
	@gofmt -w apis

.PHONY: check-generate
check-generate: generate ## Fail when generated files are stale.
	@echo "==> check-generate: comparing with the committed tree"
	@if [ -n "$$(git status --porcelain -- apis package)" ]; then \
		echo "generated files are stale; run 'make generate' and commit:"; \
		git status --porcelain -- apis package; exit 1; fi

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a file.
	@echo "==> fmt-check: gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: ## go vet.
	@echo "==> vet: go vet ./..."
	@$(GO) vet ./...

.PHONY: lint
lint: ## golangci-lint (v2.6.0, built from hack/tools/golangci-lint into bin/).
	@echo "==> lint: golangci-lint"
	@test -x $(BIN)/golangci-lint || (cd hack/tools/golangci-lint && GOWORK=off $(GO) build -o $(BIN)/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
	@$(BIN)/golangci-lint run ./...

.PHONY: controlplane
controlplane: ## Build kube-apiserver, etcd and kube-controller-manager from Go modules into bin/ (cached).
	@hack/build-controlplane.sh

.PHONY: render-engine
render-engine: ## Build Crossplane's render engine into bin/xprender (cached).
	@hack/build-render.sh

.PHONY: crossplane
crossplane: ## Build Crossplane core v2.4 into bin/crossplane (cached), for the end-to-end suite and the demo.
	@hack/build-crossplane.sh

.PHONY: promtool
promtool: ## Build Prometheus' promtool into bin/promtool (cached), for the alert rules' tests.
	@hack/build-promtool.sh

.PHONY: rules-test
rules-test: promtool ## Test the alert rules in examples/monitoring/rules with promtool.
	@echo "==> rules-test: promtool test rules examples/monitoring/rules/eslink-rules.test.yaml"
	@cd examples/monitoring/rules && $(BIN)/promtool check rules eslink-rules.yaml && $(BIN)/promtool test rules eslink-rules.test.yaml

.PHONY: eck
eck: ## Build ECK's operator 3.5.0 (tool module hack/eck) and copy its CRDs into bin/eck (cached).
	@hack/build-eck.sh

.PHONY: xpkg
xpkg: ## Build eslink's Crossplane packages into bin/xpkg (pure Go, no container engine).
	@hack/build-xpkg.sh

.PHONY: xpkg-push
xpkg-push: xpkg ## Push the packages to XPKG_REGISTRY (e.g. registry.example.com/eslink), the provider and function as multi-arch indexes; XPKG_CA_BUNDLE trusts a private CA.
	@test -n "$(XPKG_REGISTRY)" || (echo "set XPKG_REGISTRY, e.g. make xpkg-push XPKG_REGISTRY=registry.example.com/eslink" >&2; exit 2)
	@for p in $(XPKGS); do \
		files=$$(ls $(BIN)/xpkg/linux_*/$$p.xpkg 2>/dev/null | paste -sd, -); \
		$(BIN)/eslink-xpkg push $(if $(XPKG_CA_BUNDLE),--ca-bundle $(XPKG_CA_BUNDLE)) \
			$${files:-$(BIN)/xpkg/$$p.xpkg} $(XPKG_REGISTRY)/$$p:$(XPKG_VERSION); done

.PHONY: xpkg-test
xpkg-test: ## Build every package, push it to a loopback registry and read it back with crossplane-runtime's parser and linters.
	@echo "==> xpkg-test: go test ./hack/xpkg"
	@# The flags of hack/build-xpkg.sh, so the tool's compiled dependencies are reused.
	@cd hack/xpkg && export GOWORK=off CGO_ENABLED=0 && $(GO) vet -trimpath ./... && $(GO) test -trimpath -count=1 -timeout $(TEST_TIMEOUT) ./...

.PHONY: unit
unit: ## Run the Go tests (needs controlplane, render-engine, crossplane, eck and xpkg).
	@echo "==> unit: go test -race ./..."
	@$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

.PHONY: fuzz
fuzz: ## Run the fake Elasticsearch fuzz target for a bounded time.
	@echo "==> fuzz: FuzzHandler for $(FUZZTIME)"
	@$(GO) test ./test/fakeelasticsearch/esfake -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME)

.PHONY: bench
bench: render-engine ## Benchmark RunFunction, over gRPC and through the engine, against function-patch-and-transform v0.10.7.
	@hack/build-pandt.sh
	@$(GO) test ./function/fn -run '^$$' -bench '^BenchmarkRunFunction$$' -benchmem -count 1
	@$(GO) test ./test/bench -run '^$$' -bench '^BenchmarkFunctionCost$$' -benchtime 3000x -count 1
	@$(GO) test ./test/bench -run '^$$' -bench '^BenchmarkRender$$' -benchtime 20x -benchmem -count 1

SCALE_ARGS ?=
.PHONY: scale
scale: deps controlplane ## Benchmark the provider with 1000 flow 3 links, then 1000 of the usual mix, on 5 remotes (takes minutes; SCALE_ARGS="-v -mix flow3 -links 200" shows progress of one smaller run).
	@echo "==> scale: API server, fake Elasticsearch clusters, simulated ECK, provider process"
	@$(GO) run ./test/scale $(SCALE_ARGS)

.PHONY: demo
demo: deps controlplane crossplane xpkg ## Install eslink into Crossplane core on loopback, run one link and print what happened.
	@echo "==> demo: API server, Crossplane core, eslink's packages from a registry, fake Elasticsearch clusters"
	@$(GO) run ./test/e2e/demo

.PHONY: test
test: deps check-generate fmt-check vet controlplane render-engine crossplane eck xpkg unit xpkg-test rules-test fuzz ## Everything CI checks.
	@echo "==> test: all checks passed"
