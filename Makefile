# Weft: the two commands a new user needs are `make run` and `make test`.
# Each installs what is missing (scripts/setup.sh), builds, then runs.

CARGO ?= cargo
DEBUG_BIN := target/debug
RELEASE_BIN := target/release
# Where cargo writes (the bundler follows CARGO_TARGET_DIR), and where `make package` puts the
# two .deb files (always under this checkout).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
PACKAGE_DIR := $(CURDIR)/target/package
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
# test-package installs the packages onto this machine only when asked: PACKAGE_INSTALL=1
# (.ci/run passes it). Asked to but not root, the install tests fail rather than skip.
PACKAGE_INSTALL ?= 0

.PHONY: run test build release ui lint bench bench-sync bindings package test-package setup setup-test setup-package clean-artifacts

## run: install what is missing, build, and start Weft in the tray
run: setup build
	$(DEBUG_BIN)/weft-app

## test: install what is missing (incl. test tools), build, and run every test
test: setup-test build
	scripts/check-deps.sh
	$(CARGO) test --workspace --no-fail-fast

## build: debug build of weft-app, weft and weft-sync into target/debug
build: setup ui
	$(CARGO) build --workspace --bins

## release: optimised build of weft-app and weft into target/release
release: setup ui
	$(CARGO) build --release -p weft-app -p weft-cli

## ui: compile the TypeScript UI into ui/dist (embedded into weft-app at build time)
ui:
	cd ui && npm run --silent build

## lint: formatting, clippy with warnings as errors, and the TypeScript type check
lint: setup ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd ui && npm run --silent check

## bench: start-up, memory and hotkey-latency figures of the release build
bench: setup-test release
	$(CARGO) build --release -p weft-sync
	$(CARGO) bench -p weft-core --bench summary
	$(CARGO) build --release -p weft-e2e --bin weft-bench
	WEFT_BIN_DIR=$(RELEASE_BIN) $(RELEASE_BIN)/weft-bench

## bench-sync: fan-out latency and memory of the release weft-sync at 1k, 5k and 10k live
## clients on loopback (pass options, e.g. SYNC_LOAD_ARGS="--clients 1000 --seconds 10")
bench-sync:
	$(CARGO) build --release -p weft-sync -p weft-sync-load
	$(RELEASE_BIN)/weft-sync-load --server-bin $(RELEASE_BIN)/weft-sync $(SYNC_LOAD_ARGS)

## package: the Debian packages of the release build, into target/package:
## weft_VERSION_ARCH.deb (weft-app and weft, the menu entry dev.weft.app.desktop, the icons;
## the Tauri bundler, then scripts/package-desktop.sh names the entry after the app id) and
## weft-sync_VERSION_ARCH.deb (the server as a systemd service; scripts/package-sync.sh)
# The CLI is another crate: the bundler's `files` map (bundle.linux.deb.files in
# src-tauri/tauri.conf.json) copies target/package/weft to /usr/bin/weft. Not `externalBin`:
# that is for sidecars the app spawns, and tauri-build would then require the binary, with a
# target-triple suffix, at every build of weft-app, debug builds included.
# The version is the workspace's (Cargo.toml); the bundler takes the desktop package's from
# "version" in src-tauri/tauri.conf.json, so the two must agree: checked first.
package: setup-package ui
	@conf="$$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' src-tauri/tauri.conf.json | head -n 1)"; \
	if [ "$$conf" != "$(VERSION)" ]; then \
		printf 'package: src-tauri/tauri.conf.json has version "%s" but Cargo.toml has "%s": set both to the same\n' "$$conf" "$(VERSION)" >&2; \
		exit 1; \
	fi
	$(CARGO) build --release -p weft-cli -p weft-sync
	mkdir -p $(PACKAGE_DIR)
	rm -f $(PACKAGE_DIR)/*.deb
	install -m 0755 $(TARGET_DIR)/release/weft $(PACKAGE_DIR)/weft
	cd src-tauri && ../packaging/desktop/node_modules/.bin/tauri build --bundles deb --ci
	scripts/package-desktop.sh $(TARGET_DIR)/release/bundle/deb/Weft_$(VERSION)_$(DEB_ARCH).deb \
		$(PACKAGE_DIR)/weft_$(VERSION)_$(DEB_ARCH).deb
	scripts/package-sync.sh $(TARGET_DIR)/release/weft-sync $(PACKAGE_DIR)

## test-package: make package, then inspect both packages (files, modes, Depends, the desktop
## entry, the systemd unit). With PACKAGE_INSTALL=1 it also installs them onto THIS
## machine with apt-get (as root: the tests fail otherwise) and runs what they installed: weft-app in the tray, an upgrade
## over a running Weft, weft-sync as its system user. That leaves /usr/bin/weft-app and a
## weft-sync system user behind: only on a throwaway machine or container. Not part of make test.
test-package: setup-test package
	WEFT_PACKAGE_DIR=$(PACKAGE_DIR) WEFT_PACKAGE_INSTALL=$(PACKAGE_INSTALL) \
		$(CARGO) test -p weft-e2e --test package -- --ignored --test-threads=1 --nocapture

## bindings: regenerate ui/src/bindings from the Rust protocol types
bindings:
	WEFT_UPDATE_BINDINGS=1 $(CARGO) test -p weft-e2e --test bindings

setup:
	scripts/setup.sh run

setup-test:
	scripts/setup.sh test

setup-package:
	scripts/setup.sh package
