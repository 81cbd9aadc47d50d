#!/bin/sh
# `make run`: the development layout (./var/{data,run,log}), a starter ./.env when there is
# none, the agent image when Docker is the sandbox, then the four services in the
# foreground with their logs interleaved and prefixed. Ctrl-C stops them all cleanly.
set -eu

BUILD_DIR="${1:-build}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(cd "$BUILD_DIR" && pwd)"
# Where var/ and .env live: the current directory, or CLAWDIE_DEV_DIR (tests use a temporary one).
ROOT="${CLAWDIE_DEV_DIR:-$(pwd)}"
VAR="$ROOT/var"
cd "$ROOT"

mkdir -p "$VAR/data" "$VAR/run" "$VAR/log"
chmod 0750 "$VAR/run"

case "$(uname -s)" in
  FreeBSD) default_sandbox=jail ;;
  *) default_sandbox=bwrap ;;
esac

if [ ! -f .env ]; then
  cat >.env <<CONF
# clawdie development configuration, written by \`make run\`. Every key is described in
# docs/configuration.md and deploy/clawdie.conf.sample. The environment overrides this file.
ASSISTANT_NAME=Andy
TZ=UTC
CLAWDIE_DATA_DIR=$VAR/data
CLAWDIE_RUN_DIR=$VAR/run
CLAWDIE_LOG_DIR=
LOG_LEVEL=info

# Sandbox for agents: docker, jail (FreeBSD), bwrap (Linux) or process (no isolation).
CLAWDIE_SANDBOX=$default_sandbox
CLAWDIE_AGENT_PATH=$BIN/container/clawdie-agent
CLAWDIE_AGENT_IMAGE=clawdie-agent:latest

# The model. Without a key the assistant answers, saying which setting is missing.
CLAWDIE_MODEL_PROVIDER=anthropic
# ANTHROPIC_API_KEY=
# CLAWDIE_MODEL_BASE_URL=

# Telegram is enabled when a bot token is set (from @BotFather).
# TELEGRAM_BOT_TOKEN=
CONF
  chmod 0600 .env
  echo "run: wrote a starter .env (edit it to add a model key or a Telegram token)"
fi

# Read the sandbox choice the way the services will: environment first, then .env.
sandbox="${CLAWDIE_SANDBOX:-$(sed -n 's/^CLAWDIE_SANDBOX=//p' .env | tail -n 1)}"
if [ "$sandbox" = "docker" ]; then
  "$SRC/scripts/ensure-dockerd.sh"
fi
# The agent image is built when a Docker daemon answers: on every start with the docker
# sandbox (so it holds this build's agent), otherwise once, so that switching to
# CLAWDIE_SANDBOX=docker later needs no extra step.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  if [ "$sandbox" = "docker" ] || ! docker image inspect clawdie-agent:latest >/dev/null 2>&1; then
    "$SRC/container/build-test-image.sh" -a "$BIN/container/clawdie-agent" clawdie-agent:latest
  fi
fi

CLAWCTL="$BIN/services/clawctl/clawctl"
if "$CLAWCTL" --run-dir "$VAR/run" --timeout 2s status >/dev/null 2>&1; then
  echo "run: clawdie is already running with sockets in $VAR/run; stop it first (Ctrl-C in" \
    "its terminal)" >&2
  exit 1
fi

# Each service writes into a FIFO read by a sed that prefixes its lines; we keep the
# services' own pids so Ctrl-C reaches exactly them.
pids=""
start() {
  name="$1"
  shift
  fifo="$VAR/run/.$name.log"
  rm -f "$fifo"
  mkfifo "$fifo"
  sed -u "s/^/[$name] /" <"$fifo" &
  "$@" >"$fifo" 2>&1 &
  pids="$pids $!"
}

# Stops every service and exits with $1 (default 0).
stop_all() {
  trap - INT TERM
  echo "run: stopping"
  # shellcheck disable=SC2086  # one pid per word
  kill -TERM $pids 2>/dev/null || true
  wait
  rm -f "$VAR"/run/.*.log
  exit "${1:-0}"
}
trap 'stop_all 0' INT TERM

for service in store broker router gateway; do
  start "$service" "$BIN/services/$service/clawdie-$service" --config "$ROOT/.env"
done

# First start: register the operator's local chat as the main group.
i=0
until "$CLAWCTL" --run-dir "$VAR/run" status >/dev/null 2>&1 || [ $i -ge 60 ]; do
  sleep 0.5
  i=$((i + 1))
done
# A service that could not start (a port or lock in use, a bad setting) has said why above.
for pid in $pids; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run: a service exited during start-up; its log above says why" >&2
    stop_all 1
  fi
done
if ! "$CLAWCTL" --run-dir "$VAR/run" groups list 2>/dev/null | grep -q 'local:me'; then
  "$CLAWCTL" --run-dir "$VAR/run" groups add --chat local:me --name Me --folder main \
    --main --no-trigger || true
fi
echo "run: ready — chat with: $CLAWCTL --config $ROOT/.env chat   (Ctrl-C here stops clawdie)"
wait
