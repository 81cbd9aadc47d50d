#!/bin/sh
# Runs every benchmark binary under the build's tests/bench/ and prints its figures.
set -u
BUILD_DIR="${1:-build}"
status=0
for bench in $(find "$BUILD_DIR/tests/bench" -type f -perm -u+x -name '*_bench' | sort); do
  echo "== $(basename "$bench")"
  if ! "$bench"; then
    echo "$(basename "$bench") failed" >&2
    status=1
  fi
done
exit $status
