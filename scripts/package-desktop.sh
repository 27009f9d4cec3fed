#!/usr/bin/env bash
# Finishes the desktop .deb the Tauri bundler made:
#   scripts/package-desktop.sh BUNDLER_DEB OUT_DEB
# The bundler names the menu entry after productName (Weft.desktop) and has no option for
# another name, but the app registers with the desktop portal's host Registry under its
# application id, the tauri identifier (dev.weft.app, src-tauri/src/hotkey/portal.rs), and a
# portal finds the app's entry by that id: so the entry must be /usr/share/applications/
# IDENTIFIER.desktop, the only one. It also gives the Maintainer field an address. This unpacks the package (dpkg-deb -R), renames the entry,
# writes DEBIAN/md5sums again and builds the package anew.
set -euo pipefail
umask 022

if [ "$#" -ne 2 ]; then
  printf 'usage: %s BUNDLER_DEB OUT_DEB\n' "$0" >&2
  exit 2
fi
bundled="$1"
out="$2"
here="$(cd "$(dirname "$0")/.." && pwd)"
conf="$here/src-tauri/tauri.conf.json"

if [ ! -f "$bundled" ]; then
  printf 'package-desktop: %s does not exist (the Tauri bundler writes it: make package)\n' "$bundled" >&2
  exit 1
fi
identifier="$(sed -n 's/^ *"identifier": *"\([^"]*\)".*/\1/p' "$conf" | head -n 1)"
if [ -z "$identifier" ]; then
  printf 'package-desktop: no "identifier" in %s\n' "$conf" >&2
  exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
dpkg-deb -R "$bundled" "$root"

apps="$root/usr/share/applications"
entries=("$apps"/*.desktop)
if [ "${#entries[@]}" -ne 1 ] || [ ! -f "${entries[0]}" ]; then
  printf 'package-desktop: expected one desktop entry in %s, found: %s\n' "$bundled" "${entries[*]}" >&2
  exit 1
fi
if [ "${entries[0]}" != "$apps/$identifier.desktop" ]; then
  mv "${entries[0]}" "$apps/$identifier.desktop"
fi

# The bundler writes the name alone (bundle.publisher); Debian policy 5.6.2 wants a name and an
# e-mail address. DEB_MAINTAINER overrides it, as in scripts/package-sync.sh.
maintainer="${DEB_MAINTAINER:-Weft <weft@example.invalid>}"
awk -v m="$maintainer" '/^Maintainer: / { print "Maintainer: " m; next } { print }' \
  "$root/DEBIAN/control" >"$stage/control"
install -m 0644 "$stage/control" "$root/DEBIAN/control"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
  | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
printf '%s\n' "$out"
