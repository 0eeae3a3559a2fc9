#!/usr/bin/env bash
# Builds the web faces' one font from Debian's fonts-dejavu-core: DejaVu Sans, regular and bold, as WOFF, into
# assistant/web/assets/fonts/ (the app serves them at /fonts/; nothing is fetched from outside). It keeps the
# Unicode blocks the guidance and a user's own documents are likely to need (Latin with Welsh, Greek, Cyrillic,
# punctuation, arrows, maths, shapes, the ligatures PDFs extract): about 190 KB a face instead of 700 KB.
# Run it from anywhere after Debian updates the package; pyftsubset comes with fontTools (a matplotlib dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
DEBIAN=/usr/share/fonts/truetype/dejavu
OUT=assistant/web/assets/fonts
if [ ! -f "$DEBIAN/DejaVuSans.ttf" ]; then
  echo "DejaVu Sans is not at $DEBIAN: apt-get install fonts-dejavu-core" >&2
  exit 1
fi
UNICODES="U+0020-007E,U+00A0-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,U+2000-20CF,U+2100-23FF,U+2460-27BF,U+FB00-FB06,U+FFFD"
mkdir -p "$OUT"
for face in DejaVuSans DejaVuSans-Bold; do
  .venv/bin/pyftsubset "$DEBIAN/$face.ttf" --unicodes="$UNICODES" --flavor=woff --layout-features='*' \
    --name-IDs='*' --notdef-outline --output-file="$OUT/$face.woff" 2>/dev/null
  echo "$OUT/$face.woff: $(( $(stat -c %s "$OUT/$face.woff") / 1024 )) KB"
done
