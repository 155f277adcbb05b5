#!/usr/bin/env bash
# echo-instructions.sh - instructions the echo server's thread executes per echo, bare and
# instrumented (benches/ws_throughput.rs), counted by valgrind's callgrind: unlike times on a
# shared machine, the count is the same from run to run, so it shows what a change to the
# per-message path costs. Kernel work (the socket calls) is not counted.
#
#   scripts/echo-instructions.sh [ECHOES]      # default 16000; needs valgrind
#
# Prints, per variant, the server thread's instructions per echo, and the same without
# tungstenite's zeroing of its read buffer (a memset that both variants pay and that varies
# with how many messages each read brings).
set -euo pipefail
cd "$(dirname "$0")/.."
ECHOES="${1:-16000}"
command -v valgrind >/dev/null || { echo "echo-instructions: valgrind is needed" >&2; exit 1; }
BENCH="$(cargo bench --bench ws_throughput --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ws_throughput" and m.get("executable"):
        print(m["executable"])')"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for variant in bare instrumented instrumented_handler_spans_filtered; do
  WS_BENCH_ONLY="$variant" WS_BENCH_ECHOES="$ECHOES" valgrind --tool=callgrind \
    --separate-threads=yes --callgrind-out-file="$OUT/$variant.%p" "$BENCH" --bench >/dev/null 2>&1
  # The server's worker is the busiest thread after the main one (the clients, thread 1).
  best=0; file=""
  for f in "$OUT/$variant".*-*; do
    case "$f" in *-01) continue ;; esac
    n="$(sed -n 's/^summary: //p' "$f")"
    if [ "${n:-0}" -gt "$best" ]; then best="$n"; file="$f"; fi
  done
  memset="$(callgrind_annotate "$file" 2>/dev/null | awk '/memset/ && !found {gsub(",", "", $1); found = $1} END {print found + 0}')"
  echo "$variant: $((best / ECHOES)) instructions per echo, $(((best - ${memset:-0}) / ECHOES)) without the read-buffer memset"
done
