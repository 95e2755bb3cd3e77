-- kedge.cli.basic: `kedge version` and `kedge lua` (handlers of the
-- command table in kedge.cli).
local core = require "kedge.core"

local M = {}

function M.version(o)
  local libs = core.library_names
  if o.json then
    local parts = {string.format('{"kedge":"%s","commit":"%s","arch":"%s"', core.version, core.commit, core.arch)}
    for _, n in ipairs(libs) do
      parts[#parts + 1] = string.format(',"%s":"%s"', n, core.libraries[n])
    end
    io.write(table.concat(parts), "}\n")
  else
    io.write(string.format("kedge %s (commit %s, %s)\n", core.version, core.commit, core.arch))
    for _, n in ipairs(libs) do io.write(string.format("%-12s %s\n", n, core.libraries[n])) end
  end
  return 0
end

-- The message handler of the standalone interpreter: a traceback, and a
-- readable line for error values that are not strings.
local function traceback(e)
  if type(e) ~= "string" and type(e) ~= "number" then
    local mt = getmetatable(e)
    if mt and mt.__tostring then
      local s = tostring(e)
      if type(s) == "string" then return s end
    end
    e = string.format("(error object is a %s value)", type(e))
  end
  return debug.traceback(tostring(e), 2)
end

-- kedge lua [-e CODE] [FILE | -] [ARGS...]: as the standalone lua
-- interpreter runs a script: `arg` (arg[0] the script, or "-e") and `...`.
function M.lua(o, args, cmd)
  local chunk, err, script
  local cli = require "kedge.cli"
  if o.code then
    script = "-e"
    chunk, err = load(o.code, "=(command line)", "t")
  else
    script = table.remove(args, 1)
    if not script then
      return cli.usage_error(cmd, "give a script FILE, '-' for stdin, or -e CODE")
    end
    chunk, err = loadfile(script ~= "-" and script or nil, "t")
  end
  if chunk then
    local a = {[0] = script}
    table.move(args, 1, #args, 1, a)
    _G.arg = a
    local ok, res = xpcall(chunk, traceback, table.unpack(args))
    if ok then return 0 end
    err = res
  end
  io.stderr:write("kedge lua: ", tostring(err), "\n")
  return 1
end

return M
