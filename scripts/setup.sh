#!/usr/bin/env bash
# Installs what Weft needs on a Debian or Ubuntu machine, and nothing that is already there.
#   scripts/setup.sh run    build and runtime packages, the UI's node modules
#   scripts/setup.sh test   the above, plus the test packages and tauri-driver
#   scripts/setup.sh package the run packages, the packaging tools and the Tauri CLI (make package)
# Safe to run again: each step checks first. Uses sudo when not root. Never prompts.
set -euo pipefail

mode="${1:-run}"
here="$(cd "$(dirname "$0")/.." && pwd)"

say() { printf 'setup: %s\n' "$*" >&2; }

build_packages=(build-essential pkg-config libwebkit2gtk-4.1-dev)
# Loaded at run time (not linked): the tray panics without it, so it is easy to miss.
runtime_packages=(libayatana-appindicator3-1)
# make package / make test-package: dpkg-shlibdeps (dpkg-dev), desktop-file-validate, and
# systemd-analyze (systemd; installing it does not make it PID 1 in a container).
package_packages=(dpkg-dev desktop-file-utils systemd)
test_packages=(xvfb desktop-file-utils dbus xdotool x11-utils webkit2gtk-driver dunst imagemagick libglib2.0-bin gsettings-desktop-schemas sqlite3 nginx-light caddy faketime x11-xkb-utils sway grim xdg-desktop-portal wayland-utils procps)

packages=("${build_packages[@]}" "${runtime_packages[@]}")
if [ "$mode" = test ]; then
  packages+=("${test_packages[@]}")
fi
if [ "$mode" = package ]; then
  packages+=("${package_packages[@]}")
fi
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "these packages are missing and this is not a Debian/Ubuntu machine: ${missing[*]}"
    say "install their equivalents with your package manager, then run this again."
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      say "need root to install: ${missing[*]} (no sudo found)"; exit 1
    fi
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q </dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo is missing: install Rust 1.90 or newer with rustup (https://rustup.rs), then run this again."
  exit 1
fi

if [ "$mode" = test ]; then
  cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$cargo_bin/tauri-driver" ]; then
    say "installing tauri-driver (WebDriver for the UI tests)"
    cargo install tauri-driver --version '^2' --locked </dev/null
  fi
fi

# The Tauri CLI that bundles the desktop .deb: the npm package (prebuilt, installs in seconds;
# `cargo install tauri-cli` compiles for ~15 minutes), pinned by packaging/desktop's lock file.
if [ "$mode" = package ] && [ ! -x "$here/packaging/desktop/node_modules/.bin/tauri" ]; then
  say "installing the Tauri CLI (packaging/desktop)"
  (cd "$here/packaging/desktop" && npm ci --no-audit --no-fund </dev/null)
fi

# The UI's one dev dependency (TypeScript), pinned by package-lock.json.
if [ ! -x "$here/ui/node_modules/.bin/tsc" ]; then
  say "installing the UI's node modules"
  (cd "$here/ui" && npm ci --no-audit --no-fund </dev/null)
fi
