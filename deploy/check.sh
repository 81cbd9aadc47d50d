#!/bin/sh
# check.sh: lint every shell file under deploy/. Runs shellcheck on each shell
# script (rc.d scripts as POSIX sh) and `sh -n` on each, and exits non-zero on
# any finding, or when shellcheck is missing (a lint that cannot run is a
# failure, not a pass). Registered with ctest as deploy_shellcheck.
set -eu

deploy_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v shellcheck >/dev/null 2>&1; then
	echo "check.sh: shellcheck is not installed (apt-get install shellcheck / pkg install hs-ShellCheck)" >&2
	exit 1
fi

# Shell files: *.sh anywhere under deploy/, and the rc.d scripts.
files=$(find "$deploy_dir" -type f \( -name '*.sh' -o -path '*/rc.d/*' \) | sort)
if [ -z "$files" ]; then
	echo "check.sh: no shell files found under $deploy_dir" >&2
	exit 1
fi

failed=0
count=0
for file in $files; do
	count=$((count + 1))
	if ! sh -n "$file"; then
		echo "check.sh: sh -n $file: syntax error" >&2
		failed=1
	fi
	if ! shellcheck --shell=sh --severity=style "$file"; then
		failed=1
	fi
done

if [ "$failed" -ne 0 ]; then
	echo "check.sh: findings in the files above" >&2
	exit 1
fi
echo "check.sh: $count shell files clean"
