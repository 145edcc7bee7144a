# vigil build. Two commands do all set-up on a fresh Debian 12 machine as root:
#   make run    install what is missing, build everything, run the daemon in the foreground
#   make test   install what is missing, build everything, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := build

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
OUT := dist
PROBE_OUT := $(OUT)/probes
PROBES := $(patsubst probes/%.bpf.c,%,$(wildcard probes/*.bpf.c))
PROBE_OBJS := $(patsubst %,$(PROBE_OUT)/%.bpf.o,$(PROBES))
PROBE_SKELS := $(patsubst %,$(PROBE_OUT)/%.skel.h,$(PROBES))
ADDON := build/Release/vigil_native.node
TS_STAMP := $(OUT)/.ts-stamp
BUILD_INFO := $(OUT)/build-info.json

# Debian packages, in sets (checked one by one, installed when missing; README.md lists them).
# Run time: what vigild, vigil and vigil-forward load when they run (the addon links libbpf, libelf
# and zlib); the only set the .deb depends on, with Node.js 20 or later.
RUN_PACKAGES := libbpf1 libelf1 zlib1g
# Build: what compiles the probes, the addon and the C helpers from source. `make build` and `make
# run` install the run-time and build sets and nothing else.
BUILD_PACKAGES := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config make g++ python3
# Test only, added by `make test`: what the tests drive or stand up. runc and busybox-static (real
# containers), util-linux, iproute2, procps (namespaces, setpriv, kill in the deploy test), rsyslog
# and rsyslog-gnutls, nats-server and openssl (the forwarder's peers and test certificates),
# chromium (the dashboard's browser test), systemd (systemd-analyze verify of the units), zsh and
# fish (the completion scripts run in the real shells; bash is essential already), prometheus (the
# server scrapes a real vigild and promtool checks /metrics, the alerting rules and the dashboard's
# queries; its packaged service is disabled when this set installs it: see apt-test).
TEST_PACKAGES := runc busybox-static util-linux iproute2 procps rsyslog rsyslog-gnutls nats-server openssl chromium systemd zsh fish prometheus
# Benchmarks only, added by the bench targets: bpftrace (the overhead comparison).
BENCH_PACKAGES := bpftrace
CLANG ?= clang
BPFTOOL ?= bpftool
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(PROBE_OUT) -Iprobes

# lint and format are the formatter and linter of biome.json (Biome: one dependency, no plugins).
.PHONY: lint format soak-containers build package run test deps apt apt-test apt-test-install apt-bench npm probes addon ts web helpers clean bench bench-overhead bench-ingest bench-sweep bench-store bench-api bench-alerts bench-faults bench-footprint bench-forecast bench-flood

deps: apt npm

# $(call apt-install,PACKAGES): apt-get install of those not installed yet.
define apt-install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

apt:
	$(call apt-install,$(RUN_PACKAGES) $(BUILD_PACKAGES))
# Debian's prometheus package enables and starts a server on :9090 with its own data in
# /var/lib/prometheus. The tests start their own on a free port, so when this target is what installed
# the package, its service is stopped and disabled (a Prometheus the host had before is left alone).
apt-test:
	@had_prometheus=$$(dpkg-query -W -f='$${Status}' prometheus 2>/dev/null | grep -c 'install ok installed'); \
	$(MAKE) --no-print-directory apt-test-install; \
	if [ "$$had_prometheus" = 0 ] && dpkg-query -W -f='$${Status}' prometheus 2>/dev/null | grep -q 'install ok installed'; then \
		echo "disabling the packaged prometheus service (the tests run their own)"; \
		if [ -d /run/systemd/system ]; then systemctl disable --now prometheus.service || true; \
		else systemctl disable prometheus.service 2>/dev/null || true; invoke-rc.d prometheus stop 2>/dev/null || true; fi; \
	fi
apt-test-install:
	$(call apt-install,$(TEST_PACKAGES))
apt-bench:
	$(call apt-install,$(BENCH_PACKAGES))

npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(PROBE_OUT)/vmlinux.h:
	@mkdir -p $(PROBE_OUT)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(PROBE_OUT)/%.bpf.o: probes/%.bpf.c probes/*.h $(PROBE_OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(PROBE_OUT)/%.skel.h: $(PROBE_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

probes: $(PROBE_OBJS) $(PROBE_SKELS)

# There is no network for node-gyp to fetch headers from: build against the installed Node's own.
NODE_PREFIX := $(shell node -p 'require("path").resolve(process.execPath, "../..")')
NODEDIR_FLAG := $(if $(wildcard $(NODE_PREFIX)/include/node/node_api.h),--nodedir=$(NODE_PREFIX))
# The addon embeds the probe objects through their skeletons.
addon: $(ADDON)
$(ADDON): binding.gyp $(wildcard native/src/*) probes/*.h $(PROBE_SKELS) node_modules/.package-lock.json
	npx --no-install node-gyp configure build --loglevel=warn $(NODEDIR_FLAG)

# TypeScript types of the gRPC API, generated from proto/ (never committed): clients and the daemon
# import them from proto/gen/; the loader options match proto/README.md.
PROTO_GEN := proto/gen/.stamp
$(PROTO_GEN): $(wildcard proto/vigil/v1/*.proto) node_modules/.package-lock.json
	rm -rf proto/gen && cd proto && ../node_modules/.bin/proto-loader-gen-types --keepCase --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js --importFileExtension=.js -I . --outDir=gen vigil/v1/*.proto >/dev/null
	@touch $@

ts: $(TS_STAMP) $(BUILD_INFO)
$(TS_STAMP): tsconfig.json $(shell find common daemon clients test bench -name '*.ts' 2>/dev/null) node_modules/.package-lock.json $(PROTO_GEN)
	npx --no-install tsc -p tsconfig.json
	@touch $@

# The build commit that `--version` prints (common/node/version.ts): rewritten only when
# it changes, so a new commit is picked up without forcing a TypeScript rebuild. Never committed.
# VIGIL_COMMIT overrides it where the sources come without .git (the image build).
.PHONY: $(BUILD_INFO)
$(BUILD_INFO):
	@mkdir -p $(OUT)
	@commit=$${VIGIL_COMMIT:-$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}; \
	printf '{"commit":"%s"}\n' "$$commit" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Small C programs the integration tests and benchmarks run to do real things to the kernel
# (memfd exec, init_module, ptrace, io_uring, ...) that no shell tool does.
HELPER_OUT := $(OUT)/helpers
HELPERS := $(patsubst test/helpers/%.c,$(HELPER_OUT)/%,$(wildcard test/helpers/*.c)) \
	$(patsubst bench/%.c,$(HELPER_OUT)/%,$(wildcard bench/*.c))
helpers: $(HELPERS)
$(HELPER_OUT)/%: test/helpers/%.c
	@mkdir -p $(HELPER_OUT)
	$(CC) -O2 -Wall -Werror -o $@ $<
$(HELPER_OUT)/%: bench/%.c
	@mkdir -p $(HELPER_OUT)
	$(CC) -O2 -Wall -Werror -o $@ $<

# The dashboard (clients/web): type-checked on its own tsconfig (DOM, bundler resolution), bundled by
# Vite into dist/web/, which the daemon's HTTP listener serves.
WEB_STAMP := $(OUT)/web/index.html
web: $(WEB_STAMP)
$(WEB_STAMP): $(shell find clients/web common -type f 2>/dev/null) node_modules/.package-lock.json $(PROTO_GEN)
	npx --no-install tsc -p clients/web/tsconfig.json --noEmit
	npx --no-install vite build clients/web --logLevel warn

build: deps probes addon ts helpers web

# The Debian package (deploy/package.sh): dist/vigil_<version>_<arch>.deb, depending on the run-time
# packages only. Needs no test helpers.
package: deps probes addon ts web
	RUN_PACKAGES="$(RUN_PACKAGES)" deploy/package.sh

# The daemon on its embedded defaults: data in /var/lib/vigil, /metrics on 127.0.0.1:9470.
run: build
	bin/vigild

# Every test: the formatter and linter first (make lint), then unit tests next to the code and
# integration tests (real kernel, real processes) in test/. They run one file at a time because the BPF tests share the kernel's tracepoints.
TEST_FILES = $(shell find $(OUT)/js -name '*.test.js' | sort)
# Each file runs in its own `node --test` under a time limit, without --test-force-exit: with that
# flag node dropped the verdicts of a file's last tests before the parent read them (nodejs/node
# issue 64833; here the last 12 of the schemas test, exit status 0). The limit turns a file that
# leaves a timer or socket behind into a failure instead of a hung run; --test-timeout bounds a single test
# (the slowest integration tests take about a minute, the slowest file about two).
TEST_FILE_LIMIT = 900
test: build apt-test lint
	@failed=0; for f in $(TEST_FILES); do \
		timeout --kill-after=10 $(TEST_FILE_LIMIT) node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec "$$f" \
			|| { echo "make test: $$f failed (status $$?)"; failed=1; }; \
	done; exit $$failed

# Formatting and lint of the TypeScript sources (biome.json): `make lint` fails on a file that is not
# formatted or on any lint warning; `make format` rewrites the files (formatting only, no lint fixes).
lint: npm
	npx --no-install biome ci --error-on-warnings

format: npm
	npx --no-install biome format --write

# The container identity, `vigil ps` and DoS checks SOAK_RUNS times (default 20), idle and beside two
# CPU-bound processes, with pass counts; not part of `make test` (it takes the better part of an hour).
soak-containers: build apt-test
	test/soak-containers.sh

# Benchmarks print ratios and rates; they are never part of `make test`. Some drive the tests' tools
# (runc, rsyslog, nats-server), so they install the test-only set too.
bench: bench-overhead bench-ingest bench-sweep bench-store bench-api bench-alerts bench-faults bench-footprint bench-forecast bench-flood
bench-overhead: build apt-test apt-bench
	bench/overhead.sh
bench-ingest: build apt-test apt-bench
	node dist/js/bench/ingest.js
bench-sweep: build apt-test apt-bench
	node dist/js/bench/sweep.js
bench-store: build apt-test apt-bench
	node dist/js/bench/store.js
bench-api: build apt-test apt-bench
	node dist/js/bench/api.js
bench-alerts: build apt-test apt-bench
	node dist/js/bench/alerts.js
bench-faults: build apt-test apt-bench
	bench/faults.sh
bench-footprint: build apt-test apt-bench
	bench/footprint.sh
bench-forecast: build apt-test apt-bench
	node dist/js/bench/forecast.js
bench-flood: build apt-test apt-bench
	node dist/js/bench/flood.js

clean:
	rm -rf $(OUT) build
