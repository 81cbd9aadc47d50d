#!/bin/sh
# `make run`: the development layout (./var/{data,run,log}), a starter ./.env when there is
# none, the agent image when Docker is the sandbox, then the four services in the
# foreground with their logs interleaved and prefixed. Ctrl-C stops them all cleanly.
set -eu

BUILD_DIR="${1:-build}"
ROOT="$(pwd)"
BIN="$ROOT/$BUILD_DIR"
VAR="$ROOT/var"

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
  scripts/ensure-dockerd.sh
  if docker info >/dev/null 2>&1; then
    container/build-test-image.sh clawdie-agent:latest "$BIN/container/clawdie-agent"
  fi
fi

pids=""
start() {
  name="$1"
  shift
  ("$@" 2>&1 | sed -u "s/^/[$name] /") &
  pids="$pids $!"
}

stop_all() {
  trap - INT TERM
  echo "run: stopping"
  pkill -TERM -f "$BIN/services/(store|router|gateway|broker)/clawdie-" 2>/dev/null || true
  wait
  exit 0
}
trap stop_all INT TERM

start store "$BIN/services/store/clawdie-store" --config .env
start broker "$BIN/services/broker/clawdie-broker" --config .env
start router "$BIN/services/router/clawdie-router" --config .env
start gateway "$BIN/services/gateway/clawdie-gateway" --config .env

# First start: register the operator's local chat as the main group.
CLAWCTL="$BIN/services/clawctl/clawctl"
i=0
until "$CLAWCTL" --run-dir "$VAR/run" status >/dev/null 2>&1 || [ $i -ge 60 ]; do
  sleep 0.5
  i=$((i + 1))
done
if ! "$CLAWCTL" --run-dir "$VAR/run" groups list 2>/dev/null | grep -q 'local:me'; then
  "$CLAWCTL" --run-dir "$VAR/run" groups add --chat local:me --name Me --folder main \
    --main --no-trigger || true
fi
echo "run: ready — chat with: $CLAWCTL --run-dir $VAR/run chat   (Ctrl-C here stops clawdie)"
wait
