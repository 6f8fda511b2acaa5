# dockman's everyday tasks. `make test` is what CI runs (see .ci/run).
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/dockman

.PHONY: build run test test-short fault-test bench bench-logs bench-enforce fuzz lint clean clean-engine

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build
	./$(BIN)

# Unit and integration tests; integration tests need a Docker engine (they
# skip without one, and fail without one when CI is set). Then the
# Kubernetes manifests, in their own module.
test:
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory test-deploy-manifests

# Tests that stop and start dockerd itself (root; the engine must have been
# started by hand or by .ci/run): run on their own, after `make test`.
fault-test:
	$(GO) test -race -count=1 -p 1 -tags faulttest -run Fault -v ./logtail/ ./enforce/

# Only the tests that need no engine.
test-short:
	$(GO) test -short -count=1 ./...

# Speed against baselines measured in the same run: ps, Tab and start-up
# with 200 containers, then idle CPU beside a 10 ms sleep loop (30 s), then
# the log keeper's, enforce mode's and the status API's benchmarks.
bench: build
	$(GO) test -run '^$$' -bench Fleet200 -benchtime 20x -count 1 ./bench/
	$(GO) test -run '^$$' -bench Stop50 -benchtime 5x -count 1 ./bench/
	$(GO) test -run '^$$' -bench IdleCPU -benchtime 1x -count 1 ./bench/
	$(MAKE) --no-print-directory bench-logs
	$(MAKE) --no-print-directory bench-enforce
	$(MAKE) --no-print-directory bench-api

# The log keeper against the docker CLI: 50 containers at 2000 lines/s for
# 30 s (CPU per line, every line once), 1M lines as fast as the engine
# serves them, and 200 idle containers (memory, CPU beside the floor).
# LOGS_SECONDS, LOGS_LINES and friends shrink them (see bench/logs_test.go).
bench-logs: build
	$(GO) test -run '^$$' -bench 'Logs50x2000|LogsFastOne|LogsIdle200' -benchtime 1x -count 1 -timeout 30m ./bench/

# Enforce mode against baselines in the same run, with 100 and then 500
# other containers running: an intruder's removal against a `docker events
# | docker rm -f` loop, a dead snapshot container's restart against
# --restart=always, a deleted one's recreation, CPU at rest beside the
# floor; bin/dockman unless DOCKMAN_BENCH_BIN says otherwise. Root on the
# engine's host (a crash is a SIGKILL sent to the container's process).
# ENFORCE_N, ENFORCE_OTHERS, ENFORCE_DEBUG: see bench/enforce_test.go.
bench-enforce: build
	DOCKMAN_BENCH_BIN=$${DOCKMAN_BENCH_BIN:-$(CURDIR)/$(BIN)} $(GO) test -run '^$$' -bench '^BenchmarkEnforce$$' -benchtime 1x -count 1 -timeout 60m ./bench/

# Fuzz the line parser and completion on every prefix of a line
# (FUZZTIME=10m for a long run).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzComplete -fuzztime $(FUZZTIME) ./shell

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin

# Remove what the tests leave on the engine: anything labelled dockman.test
# (left by a run killed half-way) and the test images.
clean-engine:
	-docker ps -aq -f label=dockman.test | xargs -r docker rm -f
	-docker network ls -q -f label=dockman.test | xargs -r docker network rm
	-docker volume ls -q -f label=dockman.test | xargs -r docker volume rm -f
	-docker rmi dockman-test/busybox dockman-test/loggen 2>/dev/null

# ---- the status API's benchmark (bench/api_test.go) ----
.PHONY: bench-api

# The agent's GET /containers under 200 clients for 30 s (wrk, loopback)
# with 100 containers running, next to a naive server that lists the
# engine on every request, in the same run: p50/p90/p99, requests/s,
# errors. bin/dockman unless DOCKMAN_BENCH_BIN says otherwise; needs wrk.
# API_SECONDS, API_CONNS, API_CONTAINERS shrink it (see the file).
bench-api: build
	DOCKMAN_BENCH_BIN=$${DOCKMAN_BENCH_BIN:-$(CURDIR)/$(BIN)} $(GO) test -run '^$$' -bench '^BenchmarkAPI$$' -benchtime 1x -count 1 -timeout 30m ./bench/

# ---- shipping: the image and the deployments (Dockerfile, deploy/, docs/deployment.md) ----
# `static`: the binary with no libc (CGO_ENABLED=0), for the FROM scratch image.
# `image`: dockman:$(VERSION) and dockman:latest from ./Dockerfile; the build
# context is the static binary alone (.dockerignore), no registry is needed.
# `deploy-test`: the image under docker-compose and a one-node Swarm on the
# engine at DOCKER_HOST (it initialises a swarm there and leaves it; run it on
# an engine of its own, as CI does after fault-test). `test-deploy-manifests`:
# the Kubernetes manifests strictly decoded into the API types, in their own
# module (deploy/kubernetes), so the main module does not depend on client-go's
# types.
STATIC_BIN := bin/dockman-static
IMAGE      ?= dockman
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DOCKER     ?= docker

.PHONY: static image deploy-test test-deploy-manifests

static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(STATIC_BIN) .

image: static
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

deploy-test: image
	DOCKMAN_IMAGE=$(IMAGE):$(VERSION) $(GO) test -count=1 -p 1 -tags deploytest -timeout 20m -v ./deploy/

test-deploy-manifests:
	cd deploy/kubernetes && $(GO) test -count=1 ./...
