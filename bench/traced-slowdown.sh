#!/usr/bin/env bash
# The cost of process tracing to a traced agent (evidence rung 2): a loop of 2,000 small file
# writes into the workspace (a shell builtin `printf x > fN`: one open-for-write each, no fork),
# run untraced, under `winnow exec` (strace -f --seccomp-bpf, writes filed for the daemon) and
# attached the way the daemon attaches (`strace -f -p PID`, which cannot use seccomp-bpf).
# Median of $RUNS runs (default 5), wall ms. Usage: bench/traced-slowdown.sh [RUNS]
set -euo pipefail
runs=${1:-5}
bin="$(cd "$(dirname "$0")/.." && pwd)/bin/winnow.js"
ws=$(mktemp -d /tmp/winnow-slowdown-XXXX)
trap 'rm -rf "$ws"' EXIT
cd "$ws"
git init -q -b main
export WINNOW_EXEC_TRACE=1 # trace under winnow exec even as root (autonomous.trace "auto" would not)
# The loop times itself (start-up of node and strace excluded) and prints wall ms.
loop='a=$(date +%s%N); i=0; while [ $i -lt 2000 ]; do printf x > "f$((i % 50))"; i=$((i+1)); done; b=$(date +%s%N); echo $(( (b - a) / 1000000 ))'
args=(-f -qq -ttt -y -z -s 4096 -e trace=open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,truncate,ftruncate,link,linkat,symlink,symlinkat,mkdir,mkdirat,rmdir -e signal=none)
attached() {
  # The loop waits on a FIFO until strace is attached, then runs; strace's output goes nowhere.
  rm -f go; mkfifo go
  sh -c "read x < go; $loop" > out & local pid=$!
  strace "${args[@]}" -o /dev/null -p "$pid" & local st=$!
  until grep -q "TracerPid:[[:space:]]*$st" "/proc/$pid/status" 2>/dev/null; do sleep 0.01; done
  echo > go; wait "$pid"
  wait "$st" 2>/dev/null || true
  cat out
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
plain=(); execd=(); att=()
for _ in $(seq "$runs"); do
  plain+=("$(sh -c "$loop")")
  execd+=("$(node "$bin" exec --dir "$ws" -- sh -c "$loop")")
  att+=("$(attached)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
e=$(printf '%s\n' "${execd[@]}" | median)
a=$(printf '%s\n' "${att[@]}" | median)
echo "2,000 writes in the workspace, median of $runs runs: untraced ${p} ms; under winnow exec ${e} ms; attached (strace -f -p) ${a} ms"
awk -v p="$p" -v e="$e" -v a="$a" 'BEGIN { printf "slowdown: winnow exec %+.0f%%, attached %+.0f%%\n", (e-p)*100/p, (a-p)*100/p }'
