# adagio: one Makefile drives everything.
#
#   make deps      install the Debian packages needed (idempotent)
#   make           build the core, the worker and the extension
#   make demo      run the example workflow on a throwaway cluster with two workers
#   make test      unit + pgTAP + isolation (races) + integration + dashboard + bench smoke + container tests, each against a throwaway cluster
#   make bench     adagio vs Graphile Worker on a throwaway cluster (BENCH_SCALE=small: ~2 min); make test runs its smoke scale
#   make install   install the extension and binaries system-wide (for real use)

BUILD ?= build
PG_CONFIG ?= pg_config
JOBS ?= $(shell nproc)

.PHONY: all deps build cmake extension sandbox-tree demo test unit-test pgtap-test isolation-test integration-test dashboard-test bench-smoke-test docker-test bench install clean

all: build

deps:
	scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

cmake: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

extension:
	$(MAKE) -C extension -j $(JOBS) PG_CONFIG=$(PG_CONFIG)

build: cmake extension

# Stage the extension inside the repo and build the private Postgres tree the sandbox uses.
sandbox-tree: extension
	rm -rf $(BUILD)/stage
	$(MAKE) -C extension install DESTDIR=$(CURDIR)/$(BUILD)/stage PG_CONFIG=$(PG_CONFIG) >/dev/null
	scripts/make-pg-tree

demo: deps build sandbox-tree
	scripts/pg-sandbox -- scripts/demo

unit-test: cmake
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

pgtap-test: sandbox-tree
	scripts/pg-sandbox -- tests/pgtap/run

isolation-test: sandbox-tree
	scripts/pg-sandbox -- tests/isolation/run

integration-test: build sandbox-tree
	tests/integration/run

# API and headless-Chromium tests of the dashboard; screenshots in tests/dashboard/artifacts/.
dashboard-test: build sandbox-tree
	tests/dashboard/run

# Every bench workload on both systems at a token size, so that a change cannot break the bench
# unnoticed; fails if a figure is missing (bench/run, BENCH_SCALE=smoke).
bench-smoke-test: build sandbox-tree
	BENCH_SCALE=smoke bench/run

# The images of docker/Dockerfile built from this checkout and run: database, workers, CLI,
# dashboard, compose (Docker, or Podman where no Docker daemon runs).
docker-test:
	tests/docker/run

# Builds, then every suite in turn; the container images are built alongside (tests/run).
test: deps
	tests/run

# Builds its own binaries (build/bench) and installs Graphile Worker from npm (bench/graphile).
bench: deps build sandbox-tree
	bench/run

install: build
	$(MAKE) -C extension install PG_CONFIG=$(PG_CONFIG)
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C extension clean PG_CONFIG=$(PG_CONFIG)
