#!/usr/bin/env bash
# Installs what `npm start`, `npm test` or `npm run bench` need and is missing on this machine:
# Debian packages first (as root), then npm dependencies. Safe to run again: it only acts on a gap.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

# Debian packages per use: the native capture addon builds with g++/make/python3; the agent
# enforces Protect mode with nft and reads its deny log with tcpdump (nflog); tests make
# network namespaces, veths and tc mirrors, and run real HTTP/DNS servers and clients in them;
# the controller suite runs a second time on a throwaway PostgreSQL server on loopback; the agent
# suite runs real containers on Debian's dockerd (started by the tests when not running) from
# images built locally with debootstrap and busybox-static (no registry), and nftables in them;
# the web UI's end-to-end test drives Debian's chromium (playwright-core, no downloaded browser), with a CJK
# font so the zh-CN screenshots show characters.
base=(g++ make python3 iproute2 nftables tcpdump)
# `npm start` (mseg up) watches containers of Debian's dockerd; `mseg demo` builds its image with
# debootstrap.
start_pkgs=(docker.io debootstrap)
test_pkgs=(curl dnsmasq-base dnsutils tcpdump postgresql docker.io debootstrap busybox-static nftables chromium fonts-wqy-zenhei)
bench_pkgs=(libndpi-bin tcpdump)
pkgs=("${base[@]}")
case "$mode" in
  start) pkgs+=("${start_pkgs[@]}") ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: ensure.sh start|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "mseg: missing Debian packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "mseg: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies (and the native addon build) when node_modules is missing or older than the lock.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "mseg: installing npm dependencies"
  npm install --no-audit --no-fund
fi

# The native addon again when its sources changed since it was built (a pull that brings new C++
# does not change the lock file, so npm install above would not rebuild it).
addon=packages/capture/build/Release/mseg_capture.node
if [[ ! -f $addon || -n $(find packages/capture/src packages/capture/binding.gyp -newer $addon -print -quit) ]]; then
  echo "mseg: building the capture addon"
  npm rebuild @mseg/capture >/dev/null
fi
