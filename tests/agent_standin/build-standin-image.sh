#!/bin/sh
# Builds a small Docker image holding the agent stand-in and exactly the shared
# libraries it links, with no registry: a root filesystem assembled from this
# machine's files and loaded with `docker import`.
#
# usage: build-standin-image.sh STANDIN_BINARY IMAGE_TAG
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: $0 STANDIN_BINARY IMAGE_TAG" >&2
  exit 2
fi
binary=$1
tag=$2

# Nothing to do when the image already holds this exact binary.
sum=$(sha256sum "$binary" | cut -d' ' -f1)
if [ "$(docker image inspect -f '{{index .Config.Labels "dev.clawdie.standin"}}' "$tag" \
  2>/dev/null)" = "$sum" ]; then
  echo "$tag is up to date"
  exit 0
fi

root=$(mktemp -d /tmp/clawdie-standin-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

for dir in usr/local/bin tmp etc proc dev sys run/clawdie workspace/group workspace/global \
  workspace/extra workspace/ipc; do
  mkdir -p "$root/$dir"
done
chmod 1777 "$root/tmp"
cp "$binary" "$root/usr/local/bin/clawdie-agent"

# The dynamic loader and every library the binary needs, at their host paths.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done

echo 'nobody:x:65534:65534:nobody:/tmp:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'nogroup:x:65534:' >"$root/etc/group"

tar -C "$root" -c . | docker import -c 'CMD ["/usr/local/bin/clawdie-agent"]' \
  -c "LABEL dev.clawdie.standin=$sum" - "$tag" >/dev/null
echo "built $tag"
