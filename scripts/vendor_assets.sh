#!/usr/bin/env bash
# Re-fetches the map assets served from static/vendor (no CDN at run time), from the npm registry with
# `npm pack` at pinned versions, with their licence files. Run from the project root; commit the result.
set -euo pipefail

DEST="static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

fetch() {  # fetch <package@version> <dest dir> <licence file> <file…> (paths inside the package)
  local spec="$1" dir="$2" licence="$3"
  shift 3
  (cd "$WORK" && npm pack --silent "$spec" >/dev/null)
  local tarball
  tarball="$(ls "$WORK"/*.tgz)"
  mkdir -p "$WORK/x" "$DEST/$dir"
  tar -xzf "$tarball" -C "$WORK/x"
  cp "$WORK/x/package/$licence" "$DEST/$dir/LICENSE"
  for file in "$@"; do
    mkdir -p "$DEST/$dir/$(dirname "$file")"
    cp "$WORK/x/package/$file" "$DEST/$dir/$file"
  done
  echo "$spec $(sha256sum "$tarball" | cut -d' ' -f1)" >>"$DEST/SOURCES.new"
  rm -rf "$WORK/x" "$tarball"
}

rm -f "$DEST/SOURCES.new"
fetch leaflet@1.9.3 leaflet LICENSE \
  dist/leaflet.js dist/leaflet.css \
  dist/images/layers.png dist/images/layers-2x.png \
  dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png
fetch leaflet.markercluster@1.1.0 leaflet.markercluster MIT-LICENCE.txt \
  dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css
# Only the naive map of bench/ needs jQuery (folium's popups call $); the app's maps do not load it.
fetch jquery@3.7.1 jquery LICENSE.txt dist/jquery.min.js
{
  echo "# npm package, sha256 of the tarball fetched by scripts/vendor_assets.sh"
  cat "$DEST/SOURCES.new"
} >"$DEST/SOURCES"
rm -f "$DEST/SOURCES.new"
echo "vendored $(grep -vc '^#' "$DEST/SOURCES") packages into $DEST"
