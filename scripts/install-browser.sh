#!/usr/bin/env bash
# What the dashboard's browser tests need, from Debian's packages: Chromium (Playwright drives
# it; no browser is downloaded at test time) and CJK fonts (the Chinese screens, screenshots).
# Idempotent: installs only what is missing; root runs apt-get itself, anyone else through sudo.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
    echo "browser present: $(chromium --version 2>/dev/null || echo chromium)"
    exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "installed: ${missing[*]}"
