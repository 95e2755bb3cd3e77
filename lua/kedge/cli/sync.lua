-- kedge.cli.sync: `kedge sync`, through kedge.git.sync (core/git).
local core = require "kedge.core"
local git = require "kedge.git"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2, refused = 3, busy = 4}

local GIT_KEYS = {"ca_file", "token_file", "username", "password_file", "ssh_key",
  "ssh_key_passphrase_file", "known_hosts", "trust_new_host", "verify", "trusted_keys"}

-- The kedge.git.sync options for the command line's git flags (sync's and
-- the pass's): the same keys.
function M.git_opts(o)
  local g = {}
  for _, k in ipairs(GIT_KEYS) do g[k] = o[k] end
  return g
end

-- The check every command taking the git flags makes.
function M.check(o)
  if o.verify and o.verify ~= "off" and not o.trusted_keys then
    return nil, "--verify " .. o.verify .. " needs --trusted-keys FILE"
  end
  return true
end

function M.run(o, _, cmd)
  local cli = require "kedge.cli"
  if not o.repo or not o.ref then
    return cli.usage_error(cmd, "--repo URL and --ref REF are required")
  end
  local ok, cerr = M.check(o)
  if not ok then return cli.usage_error(cmd, cerr) end
  local g = M.git_opts(o)
  g.repo, g.ref, g.state = o.repo, o.ref, o.state_dir
  g.lock_timeout = math.ceil(o.lock_timeout)
  g.progress = o.progress == nil and core.isatty(2) or o.progress
  g.token_env, g.password_env = "KEDGE_GIT_TOKEN", "KEDGE_GIT_PASSWORD"
  g.timeout = o.timeout
  g.timeout_message = "kedge sync: timed out (--timeout); the state stays as it was\n"
  local r, err, kind = git.sync(g)
  if not r then
    io.stderr:write("kedge sync: ", err, "\n")
    return kind == "busy" and M.EXIT.busy or M.EXIT.failed
  end
  if r.commit then print(r.commit .. " " .. r.tree) end
  if r.refused then
    io.stderr:write("kedge sync: ", r.message, "\n")
    return M.EXIT.refused
  end
  core.log("info", string.format("synced %s (%s)%s, %d objects fetched", r.commit, r.ref,
    r.changed and ", now current" or ", unchanged", r.objects))
  return M.EXIT.ok
end

return M
