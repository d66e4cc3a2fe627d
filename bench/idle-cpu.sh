#!/usr/bin/env bash
# Idle CPU and RSS of the daemon over IDLE_S s (default 30) on a quiet workspace of FILES files
# (default 10000, 100 a folder), after start-up and SKIP_S s (default 5) of settling, from
# /proc/PID/stat ticks: the daemon's own (what the bench's idle figure counts), its live children's
# (fatrace, forkstat, git cat-file) and children reaped meanwhile (cutime+cstime).
# Usage: [FILES=100000] bench/idle-cpu.sh [off|on|auto]  (fanotify mode)
set -euo pipefail
mode=${1:-off}
files=${FILES:-10000}
idle_s=${IDLE_S:-30}
skip_s=${SKIP_S:-5}
bin="$(cd "$(dirname "$0")/.." && pwd)/bin/winnow.js"
ws=$(mktemp -d /tmp/winnow-idle-XXXX)
log="$ws.log"
cfg="$ws.json"
pid=
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$ws" "$log" "$cfg"' EXIT
cd "$ws"
git init -q -b main
node -e 'const fs=require("fs");const n=+process.argv[1];for(let i=0;i<n;i++){const d="d"+Math.floor(i/100);if(i%100===0)fs.mkdirSync(d);fs.writeFileSync(d+"/f"+i+".txt",i+"\n")}' "$files"
git add -A
# No background `git gc --auto` after the base commit: at 100k files it deletes the loose objects
# while the daemon is measured (fatrace reports each) and outlives the cleanup.
git config gc.auto 0
git -c user.name=idle -c user.email=idle@example.test commit -qm init
echo "{\"autonomous\":{\"fanotify\":\"$mode\"}}" > "$cfg"
# The daemon's own flags (bin/winnow.js's shebang), then NODE_FLAGS: more V8 or node flags to compare.
own_flags=$(head -1 "$bin" | sed -n 's|^#!/usr/bin/env -S node||p')
# shellcheck disable=SC2086 # flags are words
node $own_flags ${NODE_FLAGS:-} "$bin" start "$ws" --config "$cfg" 2>"$log" &
pid=$!
until grep -qs '"ready"' "$log"; do kill -0 "$pid" || { cat "$log"; exit 1; }; sleep 0.2; done
sleep "$skip_s"
tck=$(getconf CLK_TCK)
own() { awk '{print $14+$15}' "/proc/$pid/stat"; }
reaped() { awk '{print $16+$17}' "/proc/$pid/stat"; }
kids() { for c in $(cat /proc/$pid/task/*/children 2>/dev/null); do [ -r "/proc/$c/stat" ] && awk -v c="$c" '{print c, $14+$15}' "/proc/$c/stat"; done; }
a=$(own); ra=$(reaped); ka=$(kids)
sleep "$idle_s"
b=$(own); rb=$(reaped); kb=$(kids)
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
# Children alive at both samples: their tick deltas, by command name.
kid_report=$(join <(echo "$ka" | sort) <(echo "$kb" | sort) | while read -r c x y; do
  printf '%s=%.2f%% ' "$(cat /proc/$c/comm 2>/dev/null || echo "$c")" "$(awk -v x="$x" -v y="$y" -v t="$tck" -v s="$idle_s" 'BEGIN{print (y-x)*100/t/s}')"; done)
awk -v a="$a" -v b="$b" -v ra="$ra" -v rb="$rb" -v t="$tck" -v r="$rss" -v m="$mode" -v n="$files" -v s="$idle_s" \
  'BEGIN { printf "files=%d fanotify=%s idle cpu %.2f%% over %d s (reaped children %.2f%%), rss %.1f MB\n", n, m, (b-a)*100/t/s, s, (rb-ra)*100/t/s, r/1024 }'
echo "live children: ${kid_report:-none}"
if [ -n "${KEEP_LOG:-}" ]; then cp "$log" "$KEEP_LOG"; fi
