-- kedge.cli.pack: `kedge pack create|verify|ls` and `kedge bootstrap`,
-- handlers of the command table (kedge.cli).
local core = require "kedge.core"
local pack = require "kedge.pack"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2, refused = 3}

local function progress(cmd, o)
  local on = o.progress
  if on == nil then on = core.isatty(2) end
  return function(step, msg)
    if on or (step ~= "tar" and step ~= "bytes") then
      io.stderr:write(string.format("kedge %s: %-7s %s\n", cmd, step, msg))
      io.stderr:flush()
    end
  end
end

local function trust_of(o)
  return {trusted_keys = o.trusted_keys, fingerprint = o.fingerprint, allow_unsigned = o.allow_unsigned}
end

local function check_trust(o)
  if o.trusted_keys and o.fingerprint then return nil, "give --trusted-keys or --fingerprint, not both" end
  if o.fingerprint and not o.fingerprint:match("^SHA256:[A-Za-z0-9+/]+$") then
    return nil, "--fingerprint takes SHA256:... as ssh-keygen -l prints it"
  end
  return true
end

local function create(o, args, cmd, cli)
  if #args ~= 1 then return cli.usage_error(cmd, "pack create takes the OUT folder") end
  if o.site and o.all_sites then return cli.usage_error(cmd, "give --site S or --all-sites, not both") end
  local synccli = require "kedge.cli.sync"
  local ok, err = synccli.check(o)
  if not ok then return cli.usage_error(cmd, err) end
  local platforms = o.platform or {}
  if #platforms == 0 then
    local own = pack.elf_machine(require("kedge.os").exe() or "")
    platforms = {own == 183 and "linux/arm64" or "linux/amd64"}
  end
  local state = o.state_dir
  if not state then
    local home = os.getenv("XDG_CACHE_HOME")
    if not home or home == "" then home = (os.getenv("HOME") or "/root") .. "/.cache" end
    state = home .. "/kedge/pack-state"
  end
  local say = progress("pack", o)
  local g = synccli.git_opts(o)
  g.progress = o.progress == nil and core.isatty(2) or o.progress
  g.token_env, g.password_env = "KEDGE_GIT_TOKEN", "KEDGE_GIT_PASSWORD"
  local r, cerr = pack.create{out = args[1], repo = o.repo, ref = o.ref, state_dir = state, git = g,
    sites = o.site, platforms = platforms, sign_key = o.sign_key, kedge_binaries = o.kedge_binary,
    tar = o.tar, registry = require("kedge.passcli").registry_opts(o), progress = say}
  if not r then
    io.stderr:write("kedge pack: ", cerr, "\n")
    return M.EXIT.failed
  end
  local m = r.manifest
  print(string.format("%s: %s at %s, %d site%s, %d chart%s, %d image%s, %d binar%s, %d files, %s",
    r.path, m.repo.url or "repo", m.repo.commit:sub(1, 12), #m.sites, #m.sites == 1 and "" or "s",
    #m.charts, #m.charts == 1 and "" or "s", #m.images, #m.images == 1 and "" or "s",
    #m.binaries, #m.binaries == 1 and "y" or "ies", #m.files, pack.human(r.bytes)))
  return M.EXIT.ok
end

local function verify(o, args, cmd, cli)
  if #args ~= 1 then return cli.usage_error(cmd, "pack verify takes the pack (a folder or a .tar)") end
  local ok, err = check_trust(o)
  if not ok then return cli.usage_error(cmd, err) end
  if not (o.trusted_keys or o.fingerprint or o.allow_unsigned) then
    return cli.usage_error(cmd, "pack verify needs --trusted-keys FILE or --fingerprint SHA256:... " ..
      "(or --allow-unsigned to check the files alone)")
  end
  local m, info, kind = pack.verify(args[1], trust_of(o), progress("pack", o))
  if not m then
    io.stderr:write("kedge pack: ", info, "\n")
    return kind == "failed" and M.EXIT.failed or M.EXIT.refused
  end
  local sig = info.signature
  print(string.format("%s: verified, %d files (%s), signature %s%s", args[1], info.files,
    pack.human(info.bytes), sig.state,
    sig.fingerprint and string.format(" by %s (%s)", sig.fingerprint, sig.principal or "") or ""))
  return M.EXIT.ok
end

local function ls(o, args, cmd, cli)
  if #args ~= 1 then return cli.usage_error(cmd, "pack ls takes the pack folder") end
  local dir, cleanup = pack.open(args[1])
  if not dir then
    io.stderr:write("kedge pack: ", cleanup, "\n")
    return M.EXIT.failed
  end
  local m, err = pack.read_manifest(dir)
  cleanup()
  if not m then
    io.stderr:write("kedge pack: ", err, "\n")
    return M.EXIT.failed
  end
  if o.json then
    io.write(require("kedge.json").encode(m, {indent = 2, sort_keys = true}), "\n")
    return M.EXIT.ok
  end
  local total = 0
  for _, f in ipairs(m.files) do total = total + (tonumber(f.size) or 0) end
  local r = m.repo
  print(string.format("pack     made %s by kedge %s (%s); not verified: kedge pack verify checks it",
    tostring(m.created), tostring(m.kedge and m.kedge.version), tostring(m.kedge and m.kedge.commit)))
  print(string.format("repo     %s %s at %s, signature %s", tostring(r.url), tostring(r.ref),
    tostring(r.commit), tostring(r.signature and r.signature.state)))
  print("sites    " .. table.concat(m.sites, ", "))
  print("platform " .. table.concat(m.platforms or {}, ", "))
  for _, c in ipairs(m.charts or {}) do
    print(string.format("chart    %s %s %s", tostring(c.name), tostring(c.version), tostring(c.digest)))
  end
  for _, i in ipairs(m.images or {}) do
    print(string.format("image    %s %s", tostring(i.ref), tostring(i.digest)))
  end
  for _, b in ipairs(m.binaries or {}) do
    print(string.format("binary   %s %s sha256:%s", tostring(b.platform), tostring(b.path), tostring(b.sha256)))
  end
  print(string.format("files    %d, %s", #m.files, pack.human(total)))
  return M.EXIT.ok
end

function M.pack(o, args, cmd)
  local cli = require "kedge.cli"
  local sub = table.remove(args, 1)
  if sub == "create" then return create(o, args, cmd, cli) end
  if sub == "verify" then return verify(o, args, cmd, cli) end
  if sub == "ls" then return ls(o, args, cmd, cli) end
  return cli.usage_error(cmd, sub and ("pack takes create, verify or ls, not '" .. sub .. "'")
    or "pack takes create, verify or ls")
end

function M.bootstrap(o, args, cmd)
  local cli = require "kedge.cli"
  if #args ~= 1 then return cli.usage_error(cmd, "bootstrap takes the pack folder (or .tar)") end
  local ok, err = check_trust(o)
  if not ok then return cli.usage_error(cmd, err) end
  if not (o.trusted_keys or o.fingerprint or o.allow_unsigned) then
    return cli.usage_error(cmd, "bootstrap needs --trusted-keys FILE or --fingerprint SHA256:... " ..
      "(or --allow-unsigned, which is reported)")
  end
  return require("kedge.bootstrap").main(o, args[1], progress("bootstrap", o))
end

return M
