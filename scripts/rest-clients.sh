#!/usr/bin/env bash
# Drives `ecomap serve`'s KServe v2 REST endpoints with real third-party clients, on 127.0.0.1
# only, for bounded durations:
#   curl  server/model metadata, health, a JSON inference with top-k, a binary-tensor inference,
#         and malformed requests (400 bad JSON, 400 wrong size, 404 unknown model)
#   wrk   a Lua script POSTing a JSON tensor (5 s): every reply 200 or 503, no socket errors
#   hey   binary tensors (5 s): every reply 200 or 503
#   overload  `ecomap loadgen`: tenant cam's capacity measured closed-loop, then open-loop Poisson
#         at 3x it while tenant txt gets its declared rate: every request of both answered
#         (success or 503 refusal, no other error); cam's successes within its SLO, on the
#         client (from each request's scheduled send, HTTP included) and on the server; txt
#         keeps its SLO (client p95 within it, at least 95% of its requests served)
#   scripts/rest-clients.sh [BUILD_DIR]        (default build; needs curl, wrk, hey: install-deps.sh)
# Exit 0: all passed; 1: a check failed; 77: a client or the binary is missing (CTest: skipped).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/ecomap"
for tool in curl wrk hey python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
[ -x "$bin" ] || { echo "SKIP: $bin not built (scripts/build.sh)"; exit 77; }

work=$(mktemp -d /tmp/ecomap-rest-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0
check() {  # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then echo "ok    $1"; else echo "FAIL  $1: $3"; fails=$((fails + 1)); fi
}

slo_ms=100
cat >"$work/serve.toml" <<EOF
[serve]
platform = "host"
interval_s = 5
data_dir = "$work/data"
load = "clients"
[serve.api]
listen = "127.0.0.1:0"
[serve.carbon]
provider = "trace"
trace = "$PWD/data/carbon/ES_2023_hourly.csv"
speedup = 720
start = "2023-04-03T00:00:00Z"
[serve.controller]
name = "ecomap"
budget_evals = 60
profile = "$PWD/data/profiles/host.jsonl"
[[serve.tenants]]
name = "cam"
family = "mobilenet"
variants = ["mobilenet_v3_small"]
slo_ms = $slo_ms
rate_rps = 20
[[serve.tenants]]
name = "txt"
family = "bert"
variants = ["bert_tiny"]
slo_ms = $slo_ms
rate_rps = 5
EOF
"$bin" serve --config "$work/serve.toml" >"$work/serve.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 120); do
  port=$(sed -n 's|^API on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.log" | head -1)
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: ecomap serve exited:"; cat "$work/serve.log"; exit 1; }
  sleep 0.5
done
[ -n "$port" ] || { echo "FAIL: the daemon did not become ready"; cat "$work/serve.log"; exit 1; }
base="http://127.0.0.1:$port"
url="$base/v2/models/cam/infer"
echo "ecomap serve ready on $base"

# --- curl ---
code=$(curl -s -o "$work/out" -w '%{http_code}' "$base/v2")
check "curl GET /v2" "$([ "$code" = 200 ] && grep -q binary_tensor_data "$work/out"; echo $?)" "HTTP $code $(cat "$work/out")"
code=$(curl -s -o "$work/out" -w '%{http_code}' "$base/v2/health/live")
check "curl GET /v2/health/live" "$([ "$code" = 200 ]; echo $?)" "HTTP $code"
code=$(curl -s -o "$work/out" -w '%{http_code}' "$base/v2/models/cam")
check "curl GET /v2/models/cam" "$([ "$code" = 200 ] && grep -q '"shape":\[1,3,224,224\]' "$work/out"; echo $?)" "HTTP $code $(cat "$work/out")"
code=$(curl -s -o "$work/out" -w '%{http_code}' "$base/v2/models/cam/ready")
check "curl GET /v2/models/cam/ready" "$([ "$code" = 200 ]; echo $?)" "HTTP $code"

n=$((3 * 224 * 224))
awk -v n=$n 'BEGIN { printf "{\"id\":\"curl-1\",\"parameters\":{\"top_k\":3},\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,224,224],\"data\":["; for (i = 0; i < n; i++) printf (i ? ",%.3f" : "%.3f"), (i % 255) / 255.0; printf "]}]}" }' >"$work/infer.json"
code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/infer.json" "$url")
check "curl POST infer (JSON, top_k=3)" "$([ "$code" = 200 ] && grep -q '"topk_classes"' "$work/out" && grep -q '"shape":\[1,1000\]' "$work/out"; echo $?)" "HTTP $code $(head -c 300 "$work/out")"

header='{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,224,224],"parameters":{"binary_data_size":'$((n * 4))'}}],"parameters":{"binary_data_output":true}}'
{ printf '%s' "$header"; head -c $((n * 4)) /dev/zero; } >"$work/infer.bin"
code=$(curl -s -D "$work/hdr" -o "$work/out" -w '%{http_code}' -H "Inference-Header-Content-Length: ${#header}" \
  -H 'Content-Type: application/octet-stream' --data-binary @"$work/infer.bin" "$url")
size=$(stat -c %s "$work/out")
hl=$(sed -n 's/^Inference-Header-Content-Length: *\([0-9]*\).*/\1/ip' "$work/hdr" | tr -d '\r')
check "curl POST infer (binary in and out)" "$([ "$code" = 200 ] && [ -n "$hl" ] && [ $((size - hl)) = 4000 ]; echo $?)" "HTTP $code, body $size bytes, JSON $hl"

code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"inputs": [' "$url")
check "curl malformed JSON -> 400" "$([ "$code" = 400 ] && grep -q '"error"' "$work/out"; echo $?)" "HTTP $code $(cat "$work/out")"
code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,8,8],"data":[0]}]}' "$url")
check "curl wrong size -> 400" "$([ "$code" = 400 ]; echo $?)" "HTTP $code $(cat "$work/out")"
code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/infer.json" "$base/v2/models/nope/infer")
check "curl unknown model -> 404" "$([ "$code" = 404 ]; echo $?)" "HTTP $code $(cat "$work/out")"
code=$(curl -s -o "$work/out" -w '%{http_code}' "$base/status")
check "curl GET /status still served" "$([ "$code" = 200 ]; echo $?)" "HTTP $code"
code=$(curl -s -o "$work/out" -w '%{http_code}' -X POST "$base/replan")
check "curl POST /replan still needs the token" "$([ "$code" = 401 ] || [ "$code" = 403 ]; echo $?)" "HTTP $code"

# --- wrk (JSON tensors) ---
cat >"$work/post.lua" <<EOF
local f = io.open("$work/infer.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c200 = 0; c503 = 0; cother = 0 end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1 elseif status == 503 then c503 = c503 + 1 else cother = cother + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("c200"); b = b + t:get("c503"); c = c + t:get("cother") end
  io.write(string.format("wrk: %d requests, 200: %d, 503: %d, other: %d, p50 %.1f ms, p99 %.1f ms\n",
    summary.requests, a, b, c, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF
wrk -t 2 -c 4 -d 5s --timeout 10s -s "$work/post.lua" "$url" >"$work/wrk.out" 2>&1
cat "$work/wrk.out" | grep -E "^wrk:|Requests/sec|Socket errors"
ok200=$(sed -n 's/^wrk: .* 200: \([0-9]*\),.*/\1/p' "$work/wrk.out")
other=$(sed -n 's/^wrk: .* other: \([0-9]*\),.*/\1/p' "$work/wrk.out")
check "wrk POST JSON tensors 5 s" "$([ "${ok200:-0}" -gt 0 ] && [ "${other:-1}" = 0 ] && ! grep -q 'Socket errors' "$work/wrk.out"; echo $?)" "$(cat "$work/wrk.out")"

# --- hey (binary tensors) ---
hey -z 5s -c 8 -m POST -T application/octet-stream -H "Inference-Header-Content-Length: ${#header}" \
  -D "$work/infer.bin" "$url" >"$work/hey.out" 2>&1
sed -n '/Status code distribution/,/^$/p' "$work/hey.out"
bad=$(sed -n '/Status code distribution/,/^$/p' "$work/hey.out" | grep -E '^\s*\[[0-9]+\]' | grep -vE '\[(200|503)\]' | wc -l)
good=$(sed -n 's/^\s*\[200\]\s*\([0-9]*\) responses.*/\1/p' "$work/hey.out")
check "hey POST binary tensors 5 s" "$([ "${good:-0}" -gt 0 ] && [ "$bad" = 0 ] && ! grep -q 'Error distribution' "$work/hey.out"; echo $?)" "$(tail -20 "$work/hey.out")"

# --- overload: cam at 3x its capacity, txt at its declared rate beside it ---
"$bin" loadgen --url "$base" --model cam:closed=2 --duration 4 --json >"$work/cap.json" 2>&1
cap=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["models"][0]["throughput_rps"])' "$work/cap.json" 2>/dev/null)
rate=$(awk -v c="${cap:-0}" 'BEGIN { printf "%.1f", 3 * c }')
echo "cam capacity (closed=2): ${cap:-?} req/s; overload at $rate req/s for 8 s, txt at 5 req/s beside it"
"$bin" loadgen --url "$base" --model "cam:rate=$rate" --model "txt:rate=5" --duration 8 --max-outstanding 24 \
  --json >"$work/over.json" 2>&1
# One line per model: name sent ok refused errors client_p95 server_p95
python3 - "$work/over.json" >"$work/over.txt" <<'PY' || { echo "FAIL  overload: no loadgen report"; cat "$work/over.json"; fails=$((fails + 1)); }
import json, sys
for m in json.load(open(sys.argv[1]))["models"]:
    print(m["model"], m["sent"], m["ok"], m["refused"], m["errors"], m["p95_ms"], m["server_p95_ms"])
PY
cat "$work/over.txt"
while read -r name sent okn refused errors p95 sp95; do
  check "overload: $name every request answered ($okn ok + $refused refused of $sent, $errors errors)" \
    "$([ "$sent" -gt 0 ] && [ "$errors" = 0 ] && [ $((okn + refused)) = "$sent" ]; echo $?)" "$(cat "$work/over.json")"
  within=$(awk -v p="$p95" -v q="$sp95" -v s=$slo_ms 'BEGIN { exit !(p <= s && q <= s) }'; echo $?)
  if [ "$name" = cam ]; then
    check "overload 3x: cam refused some ($refused)" "$([ "$refused" -gt 0 ]; echo $?)" "nothing refused at 3x capacity"
    check "overload 3x: cam successes' p95 within the SLO $slo_ms ms (client $p95 ms, server $sp95 ms)" "$within" \
      "client p95 $p95, server p95 $sp95"
  else
    served=$(awk -v o="$okn" -v n="$sent" 'BEGIN { exit !(o >= 0.95 * n) }'; echo $?)
    check "overload 3x: $name keeps its SLO (client p95 $p95 ms, server $sp95 ms, $okn of $sent served)" \
      "$([ "$within" = 0 ] && [ "$served" = 0 ]; echo $?)" "client p95 $p95, server p95 $sp95, $okn of $sent"
  fi
done <"$work/over.txt"
[ "$(wc -l <"$work/over.txt")" = 2 ] || check "overload: a report for both tenants" 1 "$(cat "$work/over.json")"

kill "$pid"; wait "$pid" 2>/dev/null; pid=""
if [ "$fails" = 0 ]; then echo "rest-clients: all checks passed"; exit 0; fi
echo "rest-clients: $fails checks failed (daemon log below)"; tail -30 "$work/serve.log"; exit 1
