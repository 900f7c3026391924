# The two quick-start commands: `make demo` and `make test`. Each does all its own set-up on a
# fresh Debian 12 machine (Debian packages when missing, npm ci, build, the test guest).
SHELL := /bin/sh
NODE ?= node

# Debian packages tsvirt uses at run time and in its tests.
DEBS_RUN  := iproute2 qemu-system-x86 qemu-utils dnsmasq-base nftables
DEBS_TEST := libvirt-daemon-system libvirt-clients python3-libvirt busybox netcat-openbsd openssl

.PHONY: all deps build lint guest test demo clean

all: build

.stamp-debs-run:
	./scripts/ensureDebs.sh $(DEBS_RUN)
	@touch $@

.stamp-debs-test:
	./scripts/ensureDebs.sh $(DEBS_TEST)
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: .stamp-debs-run node_modules/.package-lock.json

build: node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	node scripts/bundleDaemon.mjs

lint: node_modules/.package-lock.json
	npx depcruise --config .dependency-cruiser.cjs src

# The test guest (build/guest/vmlinuz, initrd.img) from Debian packages; the script does
# nothing when its outputs are newer than it and scripts/guest/.
guest:
	./scripts/buildGuest.sh

test: deps .stamp-debs-test build lint guest
	npm test

demo: deps build guest
	$(NODE) --enable-source-maps dist/src/cli/demo.js

clean:
	rm -rf dist build .demo .stamp-*
