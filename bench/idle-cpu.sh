#!/usr/bin/env bash
# Idle CPU and RSS of the daemon over 30 s on a quiet 10k-file workspace (after start-up and 5 s
# of settling), from /proc/PID/stat ticks. Usage: bench/idle-cpu.sh [off|on|auto]  (fanotify mode)
set -euo pipefail
mode=${1:-off}
bin="$(cd "$(dirname "$0")/.." && pwd)/bin/winnow.js"
ws=$(mktemp -d /tmp/winnow-idle-XXXX)
log="$ws.log"
cfg="$ws.json"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$ws" "$log" "$cfg"' EXIT
cd "$ws"
git init -q -b main
for d in $(seq 0 99); do mkdir "d$d"; for f in $(seq 0 99); do echo "$d $f" > "d$d/f$f.txt"; done; done
git add -A
git -c user.name=idle -c user.email=idle@example.test commit -qm init
echo "{\"autonomous\":{\"fanotify\":\"$mode\"}}" > "$cfg"
node "$bin" start "$ws" --config "$cfg" 2>"$log" &
pid=$!
until grep -qs '"ready"' "$log"; do kill -0 "$pid" || { cat "$log"; exit 1; }; sleep 0.2; done
sleep 5
tck=$(getconf CLK_TCK)
a=$(awk '{print $14+$15}' "/proc/$pid/stat")
sleep 30
b=$(awk '{print $14+$15}' "/proc/$pid/stat")
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
awk -v a="$a" -v b="$b" -v t="$tck" -v r="$rss" -v m="$mode" 'BEGIN { printf "fanotify=%s idle cpu %.2f%% over 30 s, rss %.1f MB\n", m, (b-a)*100/t/30, r/1024 }'
