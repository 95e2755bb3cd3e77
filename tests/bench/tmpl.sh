#!/usr/bin/env bash
# Template engine figures: the whole conformance set (wall time), and a large
# render (a 10,000-item range with printf, include, indent and toYaml per
# item): time, output size and peak RSS. Prints figures; always exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEDGE=${KEDGE:-build/kedge}
cases=${1:-../shared/conformance/templates.json}

start=$(date +%s%N)
KEDGE=$KEDGE tests/conformance/run-templates "$cases" >/tmp/kedge-bench-conformance.$$ 2>&1 || true
end=$(date +%s%N)
echo "conformance: $(grep '^# passed' /tmp/kedge-bench-conformance.$$ | sed 's/^# //'), $(( (end - start) / 1000000 )) ms wall (startup and JSON loading included)"
rm -f /tmp/kedge-bench-conformance.$$

"$KEDGE" lua - <<'LUA'
local tmpl = require "kedge.tmpl"
local items = {}
for i = 1, 10000 do
  items[i] = {name = "item-" .. i, port = 8000 + i % 100, labels = {app = "a" .. i % 7, tier = "t"}}
end
local helpers = {["_helpers.tpl"] = [[{{- define "labels" -}}
app: {{ .labels.app }}
tier: {{ .labels.tier }}
{{- end -}}]]}
local text = [[
{{- range .Values.items }}
---
name: {{ printf "%s-%d" .name .port | quote }}
labels:
{{ include "labels" . | indent 2 }}
spec:
{{ toYaml . | indent 2 }}
{{- end }}]]
local data = {Values = {items = items}}
local t0 = os.clock()
local out = assert(tmpl.render(text, data, {helpers = helpers}))
local dt = os.clock() - t0
print(string.format("large render: %.1f MB of output in %.0f ms CPU (%.1f MB/s)", #out / 1e6, dt * 1e3, #out / 1e6 / dt))
for line in io.lines("/proc/self/status") do
  local hwm = line:match("^VmHWM:%s*(%d+)")
  if hwm then print(string.format("peak RSS: %.1f MiB (the Lua copy of the data included)", hwm / 1024)) end
end
LUA
