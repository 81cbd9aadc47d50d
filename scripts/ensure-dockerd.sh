#!/bin/sh
# Makes sure a Docker Engine answers on the local socket before the tests run: starts
# dockerd in the background when it is installed but not running, and waits for /_ping.
# Without Docker the docker tests fail loudly with the reason; this script only reports.
set -u

SOCKET="${DOCKER_SOCKET:-/var/run/docker.sock}"

ping_docker() {
  curl -fsS --max-time 2 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1
}

if ping_docker; then
  echo "dockerd: answering on $SOCKET"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd: not installed (make deps installs docker.io); docker tests will fail" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "dockerd: not running and not root; start it (systemctl start docker)" >&2
  exit 0
fi

echo "dockerd: starting (log /tmp/clawdie-dockerd.log)"
nohup dockerd >/tmp/clawdie-dockerd.log 2>&1 &
i=0
while [ $i -lt 60 ]; do
  if ping_docker; then
    echo "dockerd: ready"
    exit 0
  fi
  sleep 1
  i=$((i + 1))
done
echo "dockerd: did not answer within 60 s; see /tmp/clawdie-dockerd.log" >&2
tail -n 20 /tmp/clawdie-dockerd.log >&2
exit 0
