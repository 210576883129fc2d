#!/usr/bin/env bash
# Makes sure this host can sandbox function instances (bubblewrap; setpriv to drop root; pasta and
# nftables for network: true), and
# tunes the one kernel setting that slows sandboxed cold starts (below).
# Runs before every `npm start` and `npm test`: silent and instant when nothing is missing, and it
# never fails the command — without bubblewrap the server refuses sandboxed instances and says why.
set -u

# Cold starts: the first process in a new cgroup (every instance has its own) waits for an RCU
# grace period, 5-20 ms here; expedited grace periods cut that to ~0.2 ms. Host-wide and undone
# with `echo 0 > /sys/kernel/rcu_expedited`; KUMO_NO_HOST_TUNING=1 leaves the host as it is.
if [ "$EUID" = 0 ] && [ -z "${KUMO_NO_HOST_TUNING:-}" ] && [ -w /sys/kernel/rcu_expedited ] &&
  [ "$(cat /sys/kernel/rcu_expedited 2>/dev/null)" = 0 ]; then
  echo 1 >/sys/kernel/rcu_expedited 2>/dev/null &&
    echo "kumo: turned on expedited RCU grace periods (/sys/kernel/rcu_expedited=1) so new instances join their cgroups in ~0.2 ms instead of 5-20 ms; KUMO_NO_HOST_TUNING=1 skips this"
fi

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ "$EUID" = 0 ] && ! command -v setpriv >/dev/null 2>&1; then missing+=(util-linux); fi
# network: true functions: pasta gives each its own network namespace, nftables keeps them off the
# host's own addresses (both only usable when kumo runs as root).
if [ "$EUID" = 0 ]; then
  command -v pasta >/dev/null 2>&1 || missing+=(passt)
  command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
fi
# Runtimes and sources: python3 (python runtime), jq (the exec examples), git (deploys from git).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v git >/dev/null 2>&1 || missing+=(git)
# Custom runtimes (runtime: provided): bootstraps written as AWS's tutorial writes them call the
# Runtime API with curl, which instances see from the host's /usr/bin.
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The web console's end-to-end tests drive Debian's chromium (`setup-host.sh --test`, run by npm test).
if [ "${1:-}" = --test ] && [ ! -x "${KUMO_CHROMIUM:-/usr/bin/chromium}" ]; then missing+=(chromium); fi
# The PostgreSQL store's tests start throwaway servers (test/support/postgres.ts) unless
# KUMO_TEST_POSTGRES names one.
if [ "${1:-}" = --test ] && [ -z "${KUMO_TEST_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql-15)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$EUID" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "kumo: installing ${missing[*]} (the sandbox, runtimes, git deploys and the console tests need them)"
  export DEBIAN_FRONTEND=noninteractive
  if log=$({ apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } 2>&1); then exit 0; fi
  printf '%s\n' "$log" | tail -n 5
  echo "kumo: could not install ${missing[*]}; sandboxed instances will not start until it is installed"
  exit 0
fi

echo "kumo needs ${missing[*]}: run sudo apt-get install -y ${missing[*]}"
exit 0
