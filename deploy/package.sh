#!/bin/bash
# Builds the Debian package (make package) from a built tree: dist/vigil_<version>_<arch>.deb.
#   /usr/lib/vigil            the program as deploy/install.sh lays it out (bin/, dist/ with the
#                             build commit, the addon with the probes it embeds, rules/, proto/,
#                             docs/), with node_modules from `npm ci --omit=dev` (production only)
#   /usr/bin                  vigild, vigil, vigil-forward (symlinks into /usr/lib/vigil/bin)
#   /lib/systemd/system       vigild.service, vigil-forward.service (neither enabled nor started)
#   /etc/vigil                vigild.yaml, forward.yaml (conffiles) and rules.d/
# Depends: the run-time Debian packages ($RUN_PACKAGES from the Makefile), Node.js 20 or later and
# adduser (for the maintainer scripts).
# The maintainer scripts are in deploy/debian/: the group vigil, the forwarder config's group; on
# purge they remove both and leave the data in /var/lib/vigil and /var/lib/vigil-forward.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$REPO"
OUT=${VIGIL_DEB_OUT:-dist}
RUN_PACKAGES=${RUN_PACKAGES:?RUN_PACKAGES (the run-time Debian packages) must be set; run make package}
MAINTAINER=${VIGIL_DEB_MAINTAINER:-vigil developers <vigil@localhost>}
PREFIX=/usr/lib/vigil

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
# adduser: the maintainer scripts' addgroup and delgroup.
depends="nodejs (>= 20), adduser"
for p in $RUN_PACKAGES; do depends="$depends, $p"; done

stage=$(mktemp -d "${TMPDIR:-/tmp}/vigil-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
deploy/install.sh --destdir "$root" --prefix "$PREFIX" --bindir /usr/bin --tree-only >/dev/null

# Production dependencies, installed fresh from the lock file rather than copied from a development
# tree. --ignore-scripts: vigil's own install script only prints a note, and classic-level loads
# its prebuilt binary without one.
target=$root$PREFIX
rm -rf "$target/node_modules"
cp package-lock.json "$target/"
(cd "$target" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$target/.vigil-tree"

unitdir=$root/lib/systemd/system
install -d "$unitdir"
for u in vigild.service vigil-forward.service; do
  sed "s#/usr/local/lib/vigil#$PREFIX#g" "deploy/systemd/$u" > "$unitdir/$u"
  chmod 0644 "$unitdir/$u"
done

install -d -m 0755 "$root/etc/vigil" "$root/etc/vigil/rules.d"
install -m 0600 deploy/systemd/vigild.yaml "$root/etc/vigil/vigild.yaml"
# root:vigil through a statoverride in postinst (the group does not exist before it).
install -m 0640 deploy/systemd/forward.yaml "$root/etc/vigil/forward.yaml"

install -d "$root/usr/share/doc/vigil"
printf 'vigil\n\nLicense: Apache-2.0\nOn Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.\n' > "$root/usr/share/doc/vigil/copyright"

install -d -m 0755 "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" -e "s/@MAINTAINER@/$MAINTAINER/" \
  deploy/debian/control.in > "$root/DEBIAN/control"
install -m 0644 deploy/debian/conffiles "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "deploy/debian/$s" "$root/DEBIAN/$s"; done

mkdir -p "$OUT"
deb=$OUT/vigil_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
