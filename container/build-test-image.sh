#!/bin/sh
# Builds an offline Docker test image of clawdie-agent from this machine's binaries: a small
# root file system with the agent, /bin/sh, a few coreutils and every shared library they
# load (found with ldd), imported with `docker import`. No registry is needed.
#
# Usage: container/build-test-image.sh [-a AGENT_BINARY] [-x EXTRA_BINARY]... [TAG]
#   -a  the clawdie-agent binary (default: build/container/clawdie-agent under the repo root,
#       or $CLAWDIE_AGENT_BINARY)
#   -x  another binary to copy into /usr/local/bin (repeatable), e.g. a test stand-in
#   TAG the image tag (default: clawdie-agent:test)
#
# The image matches the production one where the broker relies on it: the agent at
# /usr/local/bin/clawdie-agent (also the default command), user 1000:1000, working directory
# /workspace/group, and the /workspace layout of DESIGN.md §6.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
agent="${CLAWDIE_AGENT_BINARY:-$repo_root/build/container/clawdie-agent}"
extras=""
while getopts "a:x:h" opt; do
  case "$opt" in
    a) agent="$OPTARG" ;;
    x) extras="$extras $OPTARG" ;;
    h) sed -n '2,15p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
tag="${1:-clawdie-agent:test}"

if [ ! -x "$agent" ]; then
  echo "build-test-image: agent binary $agent: not found or not executable (build clawdie-agent first)" >&2
  exit 1
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/clawdie-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT INT TERM

# Merged-/usr layout, as on Debian 12, so library paths from ldd resolve either way.
mkdir -p "$rootfs/usr/bin" "$rootfs/usr/lib" "$rootfs/usr/lib64" "$rootfs/usr/local/bin" \
  "$rootfs/usr/sbin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/home/agent" "$rootfs/dev" \
  "$rootfs/proc" "$rootfs/sys" \
  "$rootfs/workspace/group/conversations" "$rootfs/workspace/global" "$rootfs/workspace/extra" \
  "$rootfs/workspace/ipc/input"
ln -s usr/bin "$rootfs/bin"
ln -s usr/lib "$rootfs/lib"
ln -s usr/lib64 "$rootfs/lib64"
ln -s usr/sbin "$rootfs/sbin"
chmod 1777 "$rootfs/tmp"

# copy_with_libs SOURCE DESTINATION: the binary and every library ldd lists for it.
copy_with_libs() {
  cp -L "$1" "$rootfs$2"
  ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' |
    while read -r lib; do
      if [ ! -e "$rootfs$lib" ]; then
        mkdir -p "$rootfs$(dirname "$lib")"
        cp -L "$lib" "$rootfs$lib"
      fi
    done
}

copy_with_libs "$agent" /usr/local/bin/clawdie-agent
for extra in $extras; do
  copy_with_libs "$extra" "/usr/local/bin/$(basename "$extra")"
done

# A shell and the commands the agent's bash tool and the tests use.
for tool in sh bash ls cat echo mkdir rm cp mv head tail wc sort grep sed env sleep true false \
  pwd printf date id touch find tr cut uname; do
  if [ -x "/usr/bin/$tool" ]; then
    copy_with_libs "/usr/bin/$tool" "/usr/bin/$tool"
  elif [ -x "/bin/$tool" ]; then
    copy_with_libs "/bin/$tool" "/usr/bin/$tool"
  else
    echo "build-test-image: $tool: not installed here; left out" >&2
  fi
done

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
agent:x:1000:1000:clawdie agent:/home/agent:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
agent:x:1000:
nogroup:x:65534:
GROUP
chown -R 1000:1000 "$rootfs/workspace" "$rootfs/home/agent" 2>/dev/null || true

tar -C "$rootfs" --numeric-owner -cf - . |
  docker import \
    --change 'USER 1000:1000' \
    --change 'WORKDIR /workspace/group' \
    --change 'ENV HOME=/home/agent PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/usr/local/bin/clawdie-agent"]' \
    --change 'LABEL org.clawdie.image=agent-test' \
    - "$tag" >/dev/null
echo "built $tag"
