#!/bin/sh
# Installs the Debian packages clawdie needs to build, test and run. Idempotent and
# non-interactive: packages already installed are left alone, and apt is not touched
# at all when nothing is missing. FreeBSD: see docs/operations.md for the ports list.
set -eu

PACKAGES="build-essential cmake ninja-build ccache pkg-config clang-format shellcheck \
libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
libspdlog-dev libfmt-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev \
libcpp-httplib-dev libmd4c-dev libmd4c-html0-dev libsqlite3-dev sqlite3 libarchive-dev \
libgtest-dev libgmock-dev bubblewrap docker.io iproute2 openssl curl ca-certificates tmux"

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: dpkg-query not found; this script installs Debian packages only" >&2
  echo "deps: on FreeBSD install the ports listed in docs/operations.md" >&2
  exit 1
fi

missing=""
for package in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done

if [ -z "$missing" ]; then
  echo "deps: all packages present"
  exit 0
fi

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # the package list is meant to split into words
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
