#!/usr/bin/env bash
# Prints YAML and JSON decode/encode throughput of build/kedge on a
# generated document of 4,000 Deployments (about 2 MB of YAML), through the
# Lua bindings (conversion to Lua tables included), and the peak
# RSS of the run. A benchmark: it prints figures and always exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEDGE=${KEDGE:-build/kedge}
"$KEDGE" lua - <<'LUA'
local yaml, json = require "kedge.yaml", require "kedge.json"
local items = {}
for i = 1, 4000 do
  items[i] = {
    apiVersion = "apps/v1", kind = "Deployment",
    metadata = {name = "app-" .. i, namespace = "default",
                labels = {app = "app-" .. i, tier = i % 2 == 0 and "front" or "back"}},
    spec = {replicas = i % 5, template = {spec = {containers = {{
      name = "main", image = "registry.example.org/app:" .. i,
      resources = {requests = {cpu = "100m", memory = "128Mi"}, limits = {cpu = 0.5 + i / 1e4}},
      args = {"--port=8080", "--verbose", "--ratio=" .. (i / 7)},
    }}}}},
  }
end
local doc = {items = items}

local function bench(label, bytes, f)
  local n, t0 = 0, os.clock()
  repeat f(); n = n + 1 until os.clock() - t0 > 1.0
  local dt = (os.clock() - t0) / n
  print(string.format("%-12s %7.1f MB/s  (%.1f ms per %.1f MB)", label, bytes / dt / 1e6, dt * 1e3, bytes / 1e6))
end

local y = assert(yaml.encode(doc))
local j = assert(json.encode(doc))
bench("yaml decode", #y, function() assert(yaml.decode(y)) end)
bench("yaml encode", #y, function() assert(yaml.encode(doc)) end)
bench("json decode", #j, function() assert(json.decode(j)) end)
bench("json encode", #j, function() assert(json.encode(doc)) end)
for line in io.lines("/proc/self/status") do
  local hwm = line:match("^VmHWM:%s*(%d+)")
  if hwm then print(string.format("peak RSS     %7.1f MiB (includes the Lua tables of the document)", hwm / 1024)) end
end
LUA
