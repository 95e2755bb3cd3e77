-- kedge.log: structured log lines through kedge's logger (text or JSON on
-- stderr, as chosen with --log-format).
--
--   local log = require "kedge.log"
--   log.info("synced", {commit = "abc123"})
--   local blog = log.with({bundle = "monitoring"})
--   blog.warn("no requests set", {container = "app"})
local core = require "kedge.core"

local LEVELS = {"debug", "info", "warn", "error"}

local function merged(base, extra)
  if not extra then return base end
  if type(extra) ~= "table" then
    error("log fields must be a table, not a " .. type(extra), 3)
  end
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

local function logger(fields)
  local l = {}
  for _, level in ipairs(LEVELS) do
    l[level] = function(msg, extra)
      if type(msg) ~= "string" then
        error("log message must be a string, not a " .. type(msg), 2)
      end
      if core.log_enabled(level) then
        core.log(level, msg, merged(fields, extra))
      end
    end
  end
  -- A logger that adds these fields to every line.
  function l.with(more)
    return logger(merged(fields, more))
  end
  l.enabled = core.log_enabled
  return l
end

return logger({})
