#!/bin/sh
# Installs the Debian packages given as arguments, only those not installed yet.
# Runs `apt-get update` once per machine (when the package lists are missing or a package is
# not found), never on a machine that already has everything.
set -eu
missing=""
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $pkg"
  fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensureDebs: missing Debian packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "ensureDebs: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi
