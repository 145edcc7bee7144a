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

# Debian packages the build, the daemon and the tests need (checked one by one, installed when missing).
DEB_PACKAGES := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config make g++ python3 \
	runc busybox-static util-linux iproute2 bpftrace libcap2-bin rsyslog rsyslog-gnutls nats-server chromium systemd procps
CLANG ?= clang
BPFTOOL ?= bpftool
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(PROBE_OUT) -Iprobes

.PHONY: soak-containers build run test deps apt npm probes addon ts web helpers clean bench bench-overhead bench-ingest bench-sweep bench-store bench-api bench-alerts bench-faults bench-footprint bench-forecast

deps: apt npm

apt:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

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

ts: $(TS_STAMP)
$(TS_STAMP): tsconfig.json $(shell find daemon clients test bench -name '*.ts' 2>/dev/null) node_modules/.package-lock.json $(PROTO_GEN)
	npx --no-install tsc -p tsconfig.json
	@touch $@

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
$(WEB_STAMP): $(shell find clients/web -type f 2>/dev/null) node_modules/.package-lock.json $(PROTO_GEN)
	npx --no-install tsc -p clients/web/tsconfig.json --noEmit
	npx --no-install vite build clients/web --logLevel warn

build: deps probes addon ts helpers web

# The daemon on its embedded defaults: data in /var/lib/vigil, /metrics on 127.0.0.1:9470.
run: build
	bin/vigild

# Every test: unit tests next to the code, integration tests (real kernel, real processes) in test/.
# They run one file at a time because the BPF tests share the kernel's tracepoints.
TEST_FILES = $(shell find $(OUT)/js -name '*.test.js' | sort)
# --test-force-exit: a file whose failed test left a timer or socket behind must end, not hang the
# run; --test-timeout bounds any single test (the slowest integration tests take about a minute).
test: build
	node --test --test-concurrency=1 --test-force-exit --test-timeout=300000 --test-reporter=spec $(TEST_FILES)

# The container identity, `vigil ps` and DoS checks SOAK_RUNS times (default 20), idle and beside two
# CPU-bound processes, with pass counts; not part of `make test` (it takes the better part of an hour).
soak-containers: build
	test/soak-containers.sh

# Benchmarks print ratios and rates; they are never part of `make test`.
bench: bench-overhead bench-ingest bench-sweep bench-store bench-api bench-alerts bench-faults bench-footprint bench-forecast
bench-overhead: build
	bench/overhead.sh
bench-ingest: build
	node dist/js/bench/ingest.js
bench-sweep: build
	node dist/js/bench/sweep.js
bench-store: build
	node dist/js/bench/store.js
bench-api: build
	node dist/js/bench/api.js
bench-alerts: build
	node dist/js/bench/alerts.js
bench-faults: build
	bench/faults.sh
bench-footprint: build
	bench/footprint.sh
bench-forecast: build
	node dist/js/bench/forecast.js

clean:
	rm -rf $(OUT) build
