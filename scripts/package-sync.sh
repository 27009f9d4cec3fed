#!/usr/bin/env bash
# Builds the weft-sync .deb from a staged tree with dpkg-deb --build.
#   scripts/package-sync.sh BINARY OUT_DIR
# BINARY is the release weft-sync; the package lands in OUT_DIR as weft-sync_VERSION_ARCH.deb.
#
# Why dpkg-deb and not cargo-deb: the package is a binary, four text files from
# packaging/sync/ and three maintainer scripts, so staging them is a screenful of shell that
# needs only dpkg-dev (already pulled in by build-essential); cargo-deb would be one more tool
# to compile on every fresh machine, and its systemd-unit support writes maintainer scripts we
# would still want to read and test. Depends comes from dpkg-shlibdeps, as in any Debian build.
set -euo pipefail
# The staged files' modes come from install -m, the folders' from mkdir: 0755, whatever the
# caller's umask.
umask 022

if [ "$#" -ne 2 ]; then
  printf 'usage: %s BINARY OUT_DIR\n' "$0" >&2
  exit 2
fi
binary="$1"
out="$2"
here="$(cd "$(dirname "$0")/.." && pwd)"
src="$here/packaging/sync"

if [ ! -x "$binary" ]; then
  printf 'package-sync: %s is not an executable (build it with cargo build --release -p weft-sync)\n' "$binary" >&2
  exit 1
fi

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)"
arch="$(dpkg --print-architecture)"
if [ -z "$version" ]; then
  printf 'package-sync: no workspace version in %s\n' "$here/Cargo.toml" >&2
  exit 1
fi

# Debian policy 5.6.2: a name and an e-mail address. DEB_MAINTAINER overrides it.
maintainer="${DEB_MAINTAINER:-Weft <weft@example.invalid>}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

install -D -m 0755 "$binary" "$root/usr/bin/weft-sync"
strip --strip-unneeded "$root/usr/bin/weft-sync"
install -D -m 0644 "$src/weft-sync.service" "$root/usr/lib/systemd/system/weft-sync.service"
install -D -m 0644 "$src/weft-sync.sysusers" "$root/usr/lib/sysusers.d/weft-sync.conf"
install -D -m 0644 "$src/weft-sync.default" "$root/etc/default/weft-sync"
install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$src/$script" "$root/DEBIAN/$script"
done
printf '/etc/default/weft-sync\n' >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control to stand in; it reads only the binary's ELF needs.
mkdir -p "$stage/debian"
printf 'Source: weft-sync\n\nPackage: weft-sync\nArchitecture: any\n' >"$stage/debian/control"
shlibs="$(cd "$stage" && dpkg-shlibdeps -O "root/usr/bin/weft-sync" | sed -n 's/^shlibs:Depends=//p')"
if [ -z "$shlibs" ]; then
  printf 'package-sync: dpkg-shlibdeps found no library dependencies for %s\n' "$binary" >&2
  exit 1
fi
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
# What debsums and dpkg --verify check the installed files against; not the conffile, which an
# admin may edit (dpkg keeps its sum itself), as dh_md5sums leaves it out.
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
  | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

cat >"$root/DEBIAN/control" <<CONTROL
Package: weft-sync
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlibs, passwd
Recommends: systemd
Section: net
Priority: optional
Description: Weft's self-hostable team sync server
 weft-sync serves Weft's team statuses, pings and live stream over HTTP.
 This package runs it as the systemd service weft-sync.service, as the
 system user weft-sync, with its SQLite database in /var/lib/weft-sync.
 Options such as the listening address are in /etc/default/weft-sync.
CONTROL

mkdir -p "$out"
deb="$out/weft-sync_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
printf '%s\n' "$deb"
