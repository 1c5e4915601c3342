#!/usr/bin/env bash
# Installs the peer DNS servers and load tools the benchmark harness uses
# (Debian bookworm packages). Run as root: bash bench/install.sh
# The distro services are never started: a policy-rc.d that denies every
# start is put in place for the duration of the install (and there is no
# systemd here anyway); the harness starts each server itself on 127.0.0.1.
set -euo pipefail

PKGS=(knot nsd dnsmasq unbound dnsperf golang-go golang-github-miekg-dns-dev)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "bench/install.sh: all packages already installed"
else
  POLICY=/usr/sbin/policy-rc.d
  had_policy=0
  if [ -e "$POLICY" ]; then had_policy=1; fi
  if [ "$had_policy" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
  fi
  trap 'if [ "$had_policy" -eq 0 ]; then $SUDO rm -f "$POLICY"; fi' EXIT
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Stop anything the packages may have started anyway (no-op without systemd).
for svc in knot nsd dnsmasq unbound; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
    $SUDO systemctl disable "$svc" || true
  fi
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done

for b in knotd knotc nsd nsd-checkzone dnsmasq unbound dnsperf go taskset; do
  printf '%-14s %s\n' "$b" "$(command -v "$b" || echo MISSING)"
done
