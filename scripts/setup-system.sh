#!/usr/bin/env bash
# Installs the system packages Starling builds against, when they are missing (Debian/Ubuntu).
set -euo pipefail
need=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)   # GRDB (the service catalogue)
dpkg -s libhiredis-dev >/dev/null 2>&1 || need+=(libhiredis-dev)   # hiredis (StarlingRedis: Redis Streams, shared features)
if [ "${1:-}" = "--python" ]; then
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
  # The browser tests of the web pages (headless Chromium through chromedriver); a missing
  # browser fails them rather than skipping them.
  dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
  dpkg -s chromium-driver >/dev/null 2>&1 || need+=(chromium-driver)
  # The Redis tests start their own redis-server on a free loopback port; a missing one fails them.
  dpkg -s redis-server >/dev/null 2>&1 || need+=(redis-server)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${need[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
