#!/usr/bin/env bash
# Screenshot a page the harness writes (an HTML leaderboard, the docs site) as a browser at a
# given width shows it, with headless Chromium (Debian: apt-get install chromium).
#
#   scripts/screenshot-html.sh leaderboard.html leaderboard.png        # 1280 px wide
#   scripts/screenshot-html.sh site/index.html home.png 1400 2000      # width, height
set -euo pipefail
page=${1:?usage: $0 PAGE.html OUT.png [WIDTH] [HEIGHT]}
out=${2:?usage: $0 PAGE.html OUT.png [WIDTH] [HEIGHT]}
width=${3:-1280}
height=${4:-900}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "no Chromium found: install it (Debian/Ubuntu: apt-get install chromium)" >&2
  exit 2
fi
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --hide-scrollbars --window-size="$width,$height" --screenshot="$(realpath -m "$out")" \
  "file://$(realpath "$page")" 2>/dev/null
echo "wrote $out (${width}x${height})"
