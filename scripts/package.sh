#!/usr/bin/env bash
# Builds tmcd's Debian package from packaging/debian and checks it with lintian (docs/install.md).
# Usage: scripts/package.sh [--commit REV] [--out DIR]
#   default: the working tree as it is (tracked and untracked files, not ignored ones);
#   --commit REV: that commit's sources, packaged with its own packaging/debian (today's when it has
#   none); the upgrade test builds an older tmcd this way. The .deb lands in DIR (default build-deb/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commit=""
out="$root/build-deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) commit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/package.sh [--commit REV] [--out DIR]" >&2; exit 2 ;;
  esac
done

# Build dependencies: control's Build-Depends, plus the tools that build and check a package.
"$root/scripts/install-deps.sh"
need=(debhelper lintian dpkg-dev fakeroot systemd man-db)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

rev=${commit:-HEAD}
hash=$(git -C "$root" rev-parse --short=10 "$rev")
count=$(git -C "$root" rev-list --count "$rev")
# One fixed source path for every build, whichever checkout it comes from, so the compiler cache hits
# from one run (or commit, or clone) to the next: the absolute path is part of the compiler's command
# line (-ffile-prefix-map). It lives with the other caches, outside the work tree.
work="${TMCD_CACHE:-$HOME/.cache/tmcd}/package-src"
src="$work/tmcd"
mkdir -p "$(dirname "$work")"
exec 9>"$work.lock"
flock 9  # one package build at a time uses the shared source path
rm -rf "$work"
mkdir -p "$src" "$out"
if [ -n "$commit" ]; then
  git -C "$root" archive --format=tar "$commit" | tar -x -C "$src"
else
  (cd "$root" && git ls-files -z -co --exclude-standard | xargs -0 tar -c --no-recursion --ignore-failed-read -f - 2>/dev/null) \
    | tar -x -C "$src"
  [ -z "$(git -C "$root" status --porcelain)" ] || hash="$hash.dirty"
fi
upstream=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
version="$upstream+git$count.$hash"
# A commit is packaged with its own packaging/debian when it has one (an older package as it was).
rm -rf "$src/debian"
if [ -n "$commit" ] && [ -d "$src/packaging/debian" ]; then
  cp -r "$src/packaging/debian" "$src/debian"
else
  cp -r "$root/packaging/debian" "$src/debian"
fi
sed -e "s/@VERSION@/$version/" -e "s/@COMMIT@/$hash/" \
    -e "s/@DATE@/$(date -R)/" "$src/debian/changelog.in" > "$src/debian/changelog"
rm "$src/debian/changelog.in"

# debhelper gives the build a fresh HOME (and XDG dirs), so ccache must be told where its cache is.
export CCACHE_DIR="${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")}"
echo "package.sh: building tmcd $version"
log="$out/build-$hash.log"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=${TMCD_PACKAGE_JOBS:-$(nproc)} nocheck noautodbgsym" dpkg-buildpackage -b -us -uc) > "$log" 2>&1 ||
  { tail -50 "$log"; echo "package.sh: dpkg-buildpackage failed (log: $log)"; exit 1; }
deb="$out/tmcd_${version}_$(dpkg --print-architecture).deb"
mv "$work/tmcd_${version}_"*.deb "$deb"
rm -f "$work/"*.buildinfo "$work/"*.changes "$work/"*.ddeb

# lintian: clean, except the overrides in packaging/debian/tmcd.lintian-overrides (each justified there).
lintian --fail-on error,warning --display-info "$deb"
echo "package.sh: $deb"
