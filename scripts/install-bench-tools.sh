#!/usr/bin/env bash
# The load generator and the reverse proxy the benchmarks compare the gateway with, from
# Debian's packages: wrk, and nginx (nginx-light where the release still has it). Idempotent:
# installs only what is missing; root runs apt-get itself, anyone else through sudo.
set -euo pipefail

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
have_nginx || missing+=(nginx)
if [ ${#missing[@]} -eq 0 ]; then
    echo "bench tools present: wrk, nginx"
    exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
packages=()
for tool in "${missing[@]}"; do
    if [ "$tool" = nginx ]; then
        # nginx-light (bookworm) is the small build; later releases ship only nginx.
        if apt-cache show nginx-light >/dev/null 2>&1; then
            packages+=(nginx-light)
        else
            packages+=(nginx)
        fi
    else
        packages+=("$tool")
    fi
done
nginx_was_running=no
[ -s /run/nginx.pid ] && nginx_was_running=yes
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
# The package starts its own service on port 80 where it can; the benchmark runs nginx with a
# generated config instead, so a service this install started is stopped again.
if [ "$nginx_was_running" = no ] && [ -s /run/nginx.pid ]; then
    "${as_root[@]}" /usr/sbin/nginx -s quit || true
fi
echo "installed: ${packages[*]}"
