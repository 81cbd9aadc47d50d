#!/bin/sh
# clawdie-tmux.sh: a glass pane over a running clawdie installation. Opens (or
# re-attaches to) a tmux session with the four services' logs, a shell with
# clawctl at hand, and a system monitor.
#
# Usage: clawdie-tmux.sh [-s SESSION] [-l LOG_DIR] [-r RUN_DIR]
#   -s SESSION  tmux session name (default: clawdie)
#   -l LOG_DIR  directory of store.log, broker.log, ... (default: /var/log/clawdie,
#               or ./var/log when that exists, as after `make run`). Without log
#               files, the logs are followed with journalctl (systemd hosts).
#   -r RUN_DIR  socket directory for clawctl in the shell pane (default: from the
#               config, see clawctl --help)
# CLAWDIE_TMUX_NO_ATTACH=1 builds the session without attaching (for scripts).
#
# Layout: the four logs tiled on the left, the shell and the monitor on the right.
set -eu

session="clawdie"
log_dir=""
run_dir=""

usage() {
	sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while getopts "s:l:r:h" option; do
	case "$option" in
	s) session="$OPTARG" ;;
	l) log_dir="$OPTARG" ;;
	r) run_dir="$OPTARG" ;;
	*) usage ;;
	esac
done

if ! command -v tmux >/dev/null 2>&1; then
	echo "clawdie-tmux: tmux is not installed (pkg install tmux / apt-get install tmux)" >&2
	exit 1
fi

if [ -z "$log_dir" ]; then
	if [ -d ./var/log ]; then
		log_dir="./var/log"
	else
		log_dir="/var/log/clawdie"
	fi
fi

# The command that follows one service's log.
follow_log() {
	if [ -f "$log_dir/$1.log" ]; then
		printf 'tail -n 200 -F %s/%s.log' "$log_dir" "$1"
	elif command -v journalctl >/dev/null 2>&1; then
		printf 'journalctl -f -n 200 -u clawdie-%s' "$1"
	else
		printf 'echo "no log for %s in %s"; exec cat' "$1" "$log_dir"
	fi
}

# The best system monitor available.
monitor() {
	for candidate in btop htop; do
		if command -v "$candidate" >/dev/null 2>&1; then
			printf '%s' "$candidate"
			return
		fi
	done
	printf 'top'
}

if tmux has-session -t "$session" 2>/dev/null; then
	exec tmux attach-session -t "$session"
fi

shell_env=""
if [ -n "$run_dir" ]; then
	shell_env="CLAWDIE_RUN_DIR=$run_dir"
fi

# Left column: the four logs; right column: the monitor above the shell. Panes are addressed
# by id, so the order of the splits does not matter.
store=$(tmux new-session -d -P -F '#{pane_id}' -s "$session" -n clawdie -x 200 -y 50 \
	"$(follow_log store)")
monitor_pane=$(tmux split-window -P -F '#{pane_id}' -t "$store" -h -f "$(monitor)")
shell_pane=$(tmux split-window -P -F '#{pane_id}' -t "$monitor_pane" -v \
	"env $shell_env ${SHELL:-/bin/sh}")
router=$(tmux split-window -P -F '#{pane_id}' -t "$store" -v "$(follow_log router)")
tmux split-window -t "$store" -v "$(follow_log broker)"
tmux split-window -t "$router" -v "$(follow_log gateway)"
tmux send-keys -t "$shell_pane" "clawctl status" Enter
tmux select-pane -t "$shell_pane"
if [ -n "${CLAWDIE_TMUX_NO_ATTACH:-}" ]; then
	exit 0
fi
exec tmux attach-session -t "$session"
