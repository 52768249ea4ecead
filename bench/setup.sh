#!/usr/bin/env bash
# Installs the bench's peers where this machine lets it; `deno task bench`
# runs it first (`bench:quick` never does). A peer that cannot be installed is
# reported and then skipped by the bench, never faked.
#   start-stop-daemon  part of dpkg: only checked
#   daemonize, python3-daemon  Debian packages, with apt-get (needs root)
#   pm2  npm, into bench/.peers (never global)
set -uo pipefail
cd "$(dirname "$0")"

PM2_VERSION=7.0.4
APT_PACKAGES=(daemonize python3-daemon)

say() { printf 'setup: %s\n' "$*" >&2; }

if command -v start-stop-daemon >/dev/null 2>&1 || [ -x /usr/sbin/start-stop-daemon ] || [ -x /sbin/start-stop-daemon ]; then
  say "start-stop-daemon: present"
else
  say "start-stop-daemon: missing (it comes with dpkg); its row will be skipped"
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    say "$pkg: present"
  else
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "${missing[*]}: no apt-get here; skipped"
  elif [ "$(id -u)" -ne 0 ]; then
    say "${missing[*]}: installing needs root; skipped"
  else
    say "installing ${missing[*]} with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1; then
      say "apt-get could not install ${missing[*]}; those rows will be skipped"
    fi
  fi
fi

if [ -x .peers/node_modules/.bin/pm2 ] &&
  grep -q "\"version\": \"$PM2_VERSION\"" .peers/node_modules/pm2/package.json 2>/dev/null; then
  say "pm2 $PM2_VERSION: present in bench/.peers"
elif ! command -v npm >/dev/null 2>&1; then
  say "pm2: npm not found; skipped"
else
  say "installing pm2@$PM2_VERSION into bench/.peers"
  mkdir -p .peers
  if ! npm install --prefix .peers --no-audit --no-fund --silent "pm2@$PM2_VERSION" >/dev/null 2>&1; then
    say "npm could not install pm2; its rows will be skipped"
  fi
fi
exit 0
