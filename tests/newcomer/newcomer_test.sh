#!/bin/sh
# The newcomer's path: the README's run command in the background (scripts/run-dev.sh, what
# `make run` runs after building), `clawctl status` SERVING within the timeout, then
# `clawctl send --chat local:me "hello" --wait` printing the reply. No model key is
# configured, so the reply must name the missing setting.
# Usage: newcomer_test.sh SOURCE_DIR BUILD_DIR
set -u
SRC="$1"
BUILD="$2"
DIR=$(mktemp -d /tmp/cwn.XXXXXX)
CLAWCTL="$BUILD/services/clawctl/clawctl"
LOG="$DIR/run.log"

cleanup() {
  if [ -n "${RUN_PID:-}" ]; then
    kill -TERM "$RUN_PID" 2>/dev/null
    i=0
    while kill -0 "$RUN_PID" 2>/dev/null && [ $i -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -KILL "$RUN_PID" 2>/dev/null
  fi
  pkill -KILL -f "$DIR/var/" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
  echo "newcomer: FAIL: $*" >&2
  echo "---- run log ----" >&2
  tail -n 60 "$LOG" >&2
  exit 1
}

# The environment must not leak a real key into the test.
unset ANTHROPIC_API_KEY OPENAI_API_KEY TELEGRAM_BOT_TOKEN
CLAWDIE_DEV_DIR="$DIR" "$SRC/scripts/run-dev.sh" "$BUILD" >"$LOG" 2>&1 &
RUN_PID=$!
# From here on, the README's clawctl commands as written: from the folder holding .env.
cd "$DIR" || fail "cd $DIR"

i=0
until "$CLAWCTL" --config .env status >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -gt 120 ] && fail "clawctl status not SERVING within 60 s: $("$CLAWCTL" --config .env status 2>&1)"
  sleep 0.5
done
echo "newcomer: all services SERVING"

# Every service announces its version, the same as clawctl's.
version=$("$CLAWCTL" --version | awk '{ print $NF }')
status_json=$("$CLAWCTL" --config .env --json status)
announced=$(printf '%s\n' "$status_json" | grep -c "\"version\": \"$version\"")
# The report's own version plus one per service.
[ "$announced" -eq 5 ] || fail "not every service announced version $version: $status_json"

# The main group is registered by run-dev.sh once the services serve.
i=0
until "$CLAWCTL" --config .env groups list 2>/dev/null | grep -q 'local:me'; do
  i=$((i + 1))
  [ $i -gt 60 ] && fail "local:me was not registered as the main group"
  sleep 0.5
done

reply=$("$CLAWCTL" --config .env --timeout 60s send --chat local:me "hello" --wait 2>&1) ||
  fail "clawctl send --wait failed: $reply"
echo "newcomer: reply: $reply"
case "$reply" in
  *ANTHROPIC_API_KEY*) echo "newcomer: ok" ;;
  *) fail "the reply does not name the missing setting ANTHROPIC_API_KEY" ;;
esac
