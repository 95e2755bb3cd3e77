-- kedge.agent.state: STATE_DIR/agent.json, what the agent says about
-- itself: read by `kedge status`, written (atomically) after every change
-- by the resident process. A torn or missing file reads as no state, so a
-- crash at any moment leaves either the old file or the new one.
local json = require "kedge.json"
local kos = require "kedge.os"

local M = {}

function M.path(state_dir) return state_dir .. "/agent.json" end

-- The last state written, or nil (none yet), or nil, err (unreadable).
function M.read(state_dir)
  local text, err = kos.read_file(M.path(state_dir))
  if not text then
    if kos.stat(M.path(state_dir)) then return nil, err end
    return nil
  end
  local okj, doc = pcall(json.decode, text)
  if not okj or type(doc) ~= "table" then
    return nil, M.path(state_dir) .. ": not the agent's JSON (" .. tostring(doc) .. ")"
  end
  return doc
end

function M.write(state_dir, st)
  local ok, err = kos.mkdir(state_dir)
  if not ok then return nil, err end
  return kos.write_atomic(M.path(state_dir), json.encode(st, {indent = 2}) .. "\n", 420)
end

-- Whether pid is a running kedge (not a recycled pid of another program).
function M.alive(pid)
  if type(pid) ~= "number" then return false end
  local f = io.open("/proc/" .. math.tointeger(pid) .. "/cmdline", "rb")
  if not f then return false end
  local cmd = f:read("a") or ""
  f:close()
  return cmd:find("kedge", 1, true) ~= nil
end

-- The reports still waiting in the outbox.
function M.outbox_pending(state_dir)
  local names = kos.read_dir(state_dir .. "/outbox")
  local n = 0
  for _, name in ipairs(names or {}) do
    if name:match("%.json$") and not name:find("%.tmp%.") then n = n + 1 end
  end
  return n
end

-- The site's record in state.json (the last good bundles, the last pass).
function M.site_record(state_dir, site)
  local text = kos.read_file(state_dir .. "/state.json")
  if not text then return nil end
  local okj, doc = pcall(json.decode, text)
  if not okj or type(doc) ~= "table" or type(doc.sites) ~= "table" then return nil end
  return doc.sites[site]
end

return M
