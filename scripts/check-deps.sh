#!/usr/bin/env bash
# Dependency invariants from ARCHITECTURE.md, checked on every `make test`:
# only src-tauri depends on tauri; the sync server never pulls in tauri, WebKit, GTK or the
# app's core; the CLI and the core build without a webview, and without the network and TLS
# stack (the team client, the one user of it in the app, is weft-team, which neither links).
set -euo pipefail
cd "$(dirname "$0")/.."

check() {
    local crate=$1
    shift
    local tree
    tree=$(cargo tree --offline -p "$crate" -e normal,build --prefix none --format '{p}' 2>/dev/null ||
        cargo tree -p "$crate" -e normal,build --prefix none --format '{p}')
    for banned in "$@"; do
        if grep -qE "^${banned} v" <<<"$tree"; then
            echo "check-deps: $crate depends on $banned:" >&2
            cargo tree -p "$crate" -e normal,build -i "$banned" >&2 || true
            exit 1
        fi
    done
    echo "check-deps: $crate has none of: $*"
}

check weft-sync tauri wry webkit2gtk gtk weft-core
check weft-sync-client tauri wry webkit2gtk gtk weft-core
check weft-proto tauri wry webkit2gtk gtk
check weft-core tauri wry webkit2gtk gtk ureq rustls ring weft-sync-client weft-team
check weft-cli tauri wry webkit2gtk gtk ureq rustls ring weft-sync-client weft-team
check weft-team tauri wry webkit2gtk gtk
