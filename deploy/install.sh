#!/bin/bash
# Installs a built vigil tree (after `make build`) the way deploy/README.md describes:
#   PREFIX (default /usr/local/lib/vigil)   the program: bin/, dist/, the addon, rules/, proto/,
#                                           docs/ and the production node_modules only
#   BINDIR (default /usr/local/bin)         vigild, vigil and vigil-forward, as symlinks into PREFIX
#   /etc/systemd/system                     vigild.service, vigil-forward.service (PREFIX substituted)
#   /etc/vigil                              vigild.yaml, forward.yaml and rules.d/ (never overwritten)
#   group vigil                             created when missing (the API socket's group)
# --destdir stages everything under another root (for images and packages; no group is created
# there). --tree-only installs the program and the symlinks, nothing in /etc (the container image).
# It never starts or enables anything: deploy/README.md lists the systemctl steps.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy/install.sh [--prefix DIR] [--bindir DIR] [--destdir DIR] [--tree-only]
  --prefix DIR   where the program goes (default /usr/local/lib/vigil)
  --bindir DIR   where the command symlinks go (default /usr/local/bin)
  --destdir DIR  stage under DIR instead of / (no group is created; files keep root:root)
  --tree-only    the program and symlinks only: no units, no /etc/vigil
EOF
}

PREFIX=/usr/local/lib/vigil
BINDIR=/usr/local/bin
DESTDIR=
TREE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --bindir) BINDIR=${2:?--bindir needs a directory}; shift 2 ;;
    --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
    --tree-only) TREE_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
for d in "$PREFIX" "$BINDIR"; do
  case "$d" in /*) ;; *) echo "install.sh: $d must be an absolute path" >&2; exit 2 ;; esac
done
if [ -n "$DESTDIR" ]; then
  mkdir -p "$DESTDIR"
  DESTDIR=$(cd "$DESTDIR" && pwd)
fi

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$REPO"
missing=
for f in dist/js/daemon/cli/main.js dist/js/clients/forwarder/main.js dist/js/clients/cli/main.js \
  build/Release/vigil_native.node node_modules/.package-lock.json; do
  [ -e "$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
  echo "install.sh: the tree is not built (missing:$missing); run make build first" >&2
  exit 1
fi

# The program is replaced whole, so that no file of an older version lingers. The marker keeps a
# mistyped --prefix (say /usr) from being emptied: only a tree this script made is removed.
target=$DESTDIR$PREFIX
if [ -e "$target" ] && [ -n "$(ls -A "$target")" ] && [ ! -e "$target/.vigil-tree" ]; then
  echo "install.sh: $target exists and was not made by install.sh; not touching it" >&2
  exit 1
fi
rm -rf "$target"
mkdir -p "$target/dist" "$target/build/Release" "$target/proto" "$target/clients/forwarder" "$target/node_modules"
cp -a package.json bin rules docs "$target/"
cp -a dist/js "$target/dist/"
# The build commit that --version prints (written by make ts).
if [ -e dist/build-info.json ]; then cp -a dist/build-info.json "$target/dist/"; fi
rm -rf "$target/dist/js/test" "$target/dist/js/bench"
# Unit tests live next to the code they test; they are not part of the program.
find "$target/dist/js" \( -name '*.test.js' -o -name '*.test.js.map' \) -delete
# The dashboard, when it was built (the daemon serves a "not built" page otherwise).
if [ -e dist/web/index.html ]; then cp -a dist/web "$target/dist/"; fi
cp -a build/Release/vigil_native.node "$target/build/Release/"
cp -a proto/vigil "$target/proto/"
cp -a clients/forwarder/README.md "$target/clients/forwarder/"
mkdir -p "$target/deploy"
cp -a deploy/README.md deploy/systemd "$target/deploy/"

# Production dependencies only: the top-level packages the lock file does not mark as dev (nested
# ones come with their parent). Reading the lock file is exact and needs no network.
node -e '
  const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
  for (const [path, meta] of Object.entries(lock.packages ?? {})) {
    if (!path.startsWith("node_modules/") || path.slice(13).includes("/node_modules/")) continue;
    if (meta.dev || meta.devOptional) continue;
    console.log(path);
  }
' | while read -r pkg; do
  if [ ! -d "$pkg" ]; then
    # An optional dependency for another platform is in the lock file but not installed.
    if node -e 'process.exit(require("./package-lock.json").packages[process.argv[1]].optional ? 0 : 1)' "$pkg"; then continue; fi
    echo "install.sh: $pkg is a production dependency but is not installed; run make npm" >&2
    exit 1
  fi
  mkdir -p "$target/$(dirname "$pkg")"
  cp -a "$pkg" "$target/$pkg"
done
touch "$target/.vigil-tree"

mkdir -p "$DESTDIR$BINDIR"
for b in vigild vigil vigil-forward; do
  ln -sfn "$PREFIX/bin/$b" "$DESTDIR$BINDIR/$b"
done
echo "installed the program in $target, commands in $DESTDIR$BINDIR"
[ "$TREE_ONLY" = 1 ] && exit 0

unitdir=$DESTDIR/etc/systemd/system
mkdir -p "$unitdir"
for u in vigild.service vigil-forward.service; do
  sed "s#/usr/local/lib/vigil#$PREFIX#g" "deploy/systemd/$u" > "$unitdir/$u.tmp"
  chmod 0644 "$unitdir/$u.tmp"
  mv "$unitdir/$u.tmp" "$unitdir/$u"
done
echo "installed $unitdir/vigild.service and vigil-forward.service"

# Both units name the group vigil (SupplementaryGroups=vigil): systemd refuses to start them
# without it.
have_group=0
if [ -z "$DESTDIR" ]; then
  if ! getent group vigil >/dev/null; then
    groupadd --system vigil
    echo "created the system group vigil"
  fi
  have_group=1
fi

etc=$DESTDIR/etc/vigil
mkdir -p "$etc/rules.d"
chmod 0755 "$etc" "$etc/rules.d"
# name, mode, group: vigild.yaml may come to hold webhook headers (root only); forward.yaml is
# read by the forwarder's dynamic user through the group.
install_config() {
  local name=$1 mode=$2 group=$3 src=$4
  if [ -e "$etc/$name" ]; then
    echo "kept $etc/$name (compare with $src)"
    return
  fi
  install -m "$mode" "$src" "$etc/$name"
  if [ "$group" != root ]; then
    if [ "$have_group" = 1 ]; then chgrp "$group" "$etc/$name"; else echo "note: chgrp $group /etc/vigil/$name on the target host"; fi
  fi
  echo "installed $etc/$name"
}
install_config vigild.yaml 0600 root deploy/systemd/vigild.yaml
install_config forward.yaml 0640 vigil deploy/systemd/forward.yaml

cat <<EOF
next:
  systemctl daemon-reload
  systemctl enable --now vigild.service
  edit /etc/vigil/forward.yaml (its sinks), then: systemctl enable --now vigil-forward.service
EOF
