-- kedge.errors: failures as values, so code decides by what failed (a kind)
-- rather than by matching message text.
--
--   local errors = require "kedge.errors"
--   local e = errors.new(errors.KIND.IO, "cannot read sites/a.yaml")
--   errors.is(e, errors.KIND.IO)   --> true
--   tostring(e)                    --> the message as a person reads it
--
-- An error is {kind=, msg=, file=, line=, col=}: msg is the message without
-- its place, file, line and col (when known) where in the user's input it
-- arose; tostring gives "file:line: msg", Lua's own form, so a message reads the
-- same as before it became a value. Expected failures still return nil,
-- err; err may be such a value wherever the caller needs its kind.
local M = {}

-- What failed. Kinds are strings, so they read well in logs and tests.
M.KIND = {
  RECIPE_SYNTAX = "recipe-syntax",   -- a recipe does not compile
  RECIPE_RUNTIME = "recipe-runtime", -- a recipe raised while it ran
  PARSE = "parse",                   -- YAML or JSON that does not parse
  LIMIT = "limit",                   -- a limit of limits.h stopped the work
  VALIDATION = "validation",         -- input that is well-formed but wrong
  IO = "io",                         -- a file or folder could not be read or written
  NOT_FOUND = "not-found",           -- the thing asked for does not exist
  KUBE = "kube",                     -- the cluster's API refused or failed
}

local Error = {}
Error.__index = Error

function Error.__tostring(e)
  if e.file and e.line and e.col then
    return e.file .. ":" .. e.line .. ":" .. e.col .. ": " .. e.msg
  end
  if e.file and e.line then return e.file .. ":" .. e.line .. ": " .. e.msg end
  if e.file then return e.file .. ": " .. e.msg end
  return e.msg
end

-- Concatenation formats the error, as a message string would.
function Error.__concat(a, b)
  return tostring(a) .. tostring(b)
end

-- An error of kind with message msg; fields: file, line, and any other
-- facts a caller may want (they are kept as given).
function M.new(kind, msg, fields)
  assert(type(kind) == "string", "errors.new: a kind first")
  local e = {}
  for k, v in pairs(fields or {}) do e[k] = v end
  e.kind, e.msg = kind, tostring(msg)
  return setmetatable(e, Error)
end

-- An error from a message that begins with the place in file it names:
-- "file:line: " (Lua's syntax and runtime errors for a chunk "@file") or
-- "file:line:col: " (kedge.yaml's). The place becomes file, line and col,
-- so tostring gives the message back as it was; a message without that
-- beginning becomes msg whole.
function M.located(kind, msg, file)
  msg = tostring(msg)
  local at = #file + 2
  if msg:sub(1, at - 1) == file .. ":" then
    local line, col, rest = msg:match("^(%d+):(%d+): ()", at)
    if not line then line, rest = msg:match("^(%d+): ()", at) end
    if line then
      return M.new(kind, msg:sub(rest), {file = file, line = tonumber(line), col = tonumber(col)})
    end
  end
  return M.new(kind, msg)
end

-- Does err carry kind? false for plain strings and nil.
function M.is(err, kind)
  return getmetatable(err) == Error and err.kind == kind
end

-- The kind of err, or nil for anything that is not an error value.
function M.kind(err)
  return getmetatable(err) == Error and err.kind or nil
end

return M
