# Weft: the two commands a new user needs are `make run` and `make test`.
# Each installs what is missing (scripts/setup.sh), builds, then runs.

CARGO ?= cargo
DEBUG_BIN := target/debug
RELEASE_BIN := target/release

.PHONY: run test build release ui lint bench bench-sync bindings setup setup-test clean-artifacts

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

## bindings: regenerate ui/src/bindings from the Rust protocol types
bindings:
	WEFT_UPDATE_BINDINGS=1 $(CARGO) test -p weft-e2e --test bindings

setup:
	scripts/setup.sh run

setup-test:
	scripts/setup.sh test
