-- kedge.bootstrap: `kedge bootstrap DIR` on a fresh node. Verifies the
-- pack before anything is used, then installs it in steps, each atomic
-- and each skipped when the node already holds what it would write (a
-- second run says "nothing to do"):
--
--   binary   ROOT/usr/local/bin/kedge (temp file + rename)
--   repo     ROOT/STATE/pack/repo.git, a copy of the pack's repo.git
--   trust    ROOT/etc/kedge/allowed_signers (--trusted-keys), when the
--            pack's commit was verified: the agent keeps verifying
--   charts   the pack's remote charts into STATE's chart cache
--   agent    the agent's config and unit (kedge agent install's), pointing
--            at the site's upstream repo when the pack came from one (a
--            URL), else at the copy (--offline: always the copy)
--   pass     one kedge apply from the copy, by the installed binary (a
--            site without a kubeconfig is reported, the rest installed)
--   report   the pass's report and kedge status into DIR/reports/SITE/
--
--   images   the pack's OCI layout into k3s's images folder and containerd
--            (kedge.images.install)
local digest = require "kedge.digest"
local json = require "kedge.json"
local kos = require "kedge.os"
local pack = require "kedge.pack"
local proc = require "kedge.proc"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2, refused = 3, no_cluster = 4, pass_failed = 5}
M.BIN = "/usr/local/bin/kedge"
M.TRUST = "/etc/kedge/allowed_signers"
M.PASS_TIMEOUT = 3600

local function exists(path) return kos.stat(path) ~= nil end

local function parent(path) return path:match("^(.*)/[^/]*$") or "/" end

local function under(root, path)
  if root == "/" or root == "" then return path end
  return (root:gsub("/+$", "")) .. path
end

local function same_file(a, b)
  local ha = exists(a) and digest.sha256_file(a)
  return ha and ha == digest.sha256_file(b)
end

local function same_text(path, text)
  local have = exists(path) and kos.read_file(path, 1 << 20)
  return have == text
end

-- The platform this node runs (by the running binary's ELF machine).
local function own_platform()
  local m = pack.elf_machine(kos.exe() or "")
  return m == 183 and "linux/arm64" or "linux/amd64"
end

local function default_site(m)
  if #m.sites == 1 then return m.sites[1] end
  return require("kedge.passcli").default_site()
end

-- Whether a repo URL is a server's (the site's upstream), not a path.
local function is_upstream(url)
  return type(url) == "string" and (url:match("^https?://") or url:match("^ssh://") or
    url:match("^[%w._-]+@[%w._-]+:")) and true or false
end

-- The kubeconfig the pass uses: --kubeconfig, $KUBECONFIG, or k3s's, under ROOT.
local function kubeconfig_of(o)
  if o.kubeconfig then return o.kubeconfig end
  local env = os.getenv("KUBECONFIG")
  if env and env ~= "" then return env end
  local k3s = under(o.root, "/etc/rancher/k3s/k3s.yaml")
  if exists(k3s) then return k3s end
  return nil
end

------------------------------------------------------------------------
-- the steps: each says whether it is needed and what it would do, then does it

local function step_binary(c)
  local b
  for _, x in ipairs(c.m.binaries or {}) do if x.platform == c.platform then b = x end end
  if not b then
    return nil, string.format("the pack holds no kedge for %s (it has %s): make it with --platform %s",
      c.platform, table.concat(c.m.platforms or {}, ", "), c.platform)
  end
  local src, dst = c.dir .. "/" .. b.path, under(c.root, M.BIN)
  c.exe = dst
  return {needed = not same_file(dst, src), what = "install " .. b.path .. " as " .. dst,
    run = function()
      local ok, err = kos.mkdir(parent(dst), 493)
      if ok then ok, err = pack.copy_binary(src, dst, 493) end
      return ok, err
    end}
end

local function step_repo(c)
  local r = c.m.repo
  local dst = c.state .. "/pack/repo.git"
  local have = exists(dst) and require("kedge.git").store(dst)
  local at = have and have:resolve(r.refname)
  if have then have:close() end
  return {needed = not (at and at.commit == r.commit),
    what = string.format("copy the pack's repo.git (%s at %s) to %s", r.ref, r.commit:sub(1, 12), dst),
    run = function()
      local ok, err = kos.mkdir(parent(dst), 448)
      if not ok then return nil, err end
      local new, old = dst .. ".new." .. pack.pid(), dst .. ".old." .. pack.pid()
      pack.remove_tree(new)
      local commit, xerr = require("kedge.git").export{src = c.dir .. "/repo.git", rev = r.refname,
        ref = r.refname, out = new}
      if not commit then return nil, xerr end
      if commit ~= r.commit then
        pack.remove_tree(new)
        return nil, "repo.git holds " .. commit .. ", MANIFEST says " .. r.commit
      end
      -- the copy replaces the old one by two renames: a crash between
      -- them leaves no repo.git, which the next run makes again
      if exists(dst) then
        ok, err = os.rename(dst, old)
        if not ok then pack.remove_tree(new); return nil, err end
      end
      ok, err = os.rename(new, dst)
      if not ok then return nil, err end
      kos.sync_dir(parent(dst))
      pack.remove_tree(old)
      return true
    end}
end

local function step_trust(c)
  local mode = c.m.repo.signature and c.m.repo.signature.mode
  if not (c.o.trusted_keys and mode and mode ~= "off") then return nil end
  local text, err = kos.read_file(c.o.trusted_keys, 4 << 20)
  if not text then return nil, "--trusted-keys: " .. err end
  local dst = under(c.root, M.TRUST)
  c.verify = {verify = mode, trusted_keys = M.TRUST, trusted_file = dst}
  return {needed = not same_text(dst, text),
    what = "install --trusted-keys as " .. dst .. " (the agent verifies commits: " .. mode .. ")",
    run = function()
      local ok, merr = kos.mkdir(parent(dst), 493)
      if ok then ok, merr = kos.write_atomic(dst, text, 420) end
      return ok, merr
    end}
end

local function step_charts(c)
  local list = c.m.charts or {}
  if #list == 0 then return nil end
  local R = require("kedge.charts").new{state_dir = c.state}
  local idx = R:read_index().entries
  local missing = {}
  for _, ch in ipairs(list) do
    local hex = tostring(ch.digest):gsub("^sha256:", "")
    -- the index is keyed as kedge.charts keys a source (source_key there)
    local key = type(ch.source) == "table" and ch.source
    local e = key and idx[(key.kind == "oci" and (key.ref .. " " .. (key.version or "")))
      or (tostring(key.repo):gsub("/+$", "") .. " " .. tostring(key.name) .. " " .. (key.version or ""))]
    if not (R:cached(hex) and type(e) == "table" and e.digest == ch.digest) then missing[#missing + 1] = ch end
  end
  return {needed = #missing > 0,
    what = string.format("put %d chart%s into %s/cache/charts", #list, #list == 1 and "" or "s", c.state),
    run = function()
      for _, ch in ipairs(missing) do
        local hex = tostring(ch.digest):gsub("^sha256:", "")
        local bytes, err = kos.read_file(c.dir .. "/" .. ch.path, require("kedge.limits").chart_bytes)
        if not bytes then return nil, err end
        local ok, serr = R:store(ch.source, hex, bytes, ch.version)
        if not ok then return nil, serr end
      end
      return true
    end}
end

-- The pack's images made available: into k3s's agent/images folder when
-- ROOT has k3s, into containerd's k8s.io namespace when its socket is
-- there (kedge.images.install, which imports only what is missing).
local function step_images(c)
  if #(c.m.images or {}) == 0 then return nil end
  local n = #c.m.images
  return {needed = true, what = string.format("make %d image%s available to k3s and containerd", n,
      n == 1 and "" or "s"),
    run = function()
      local r, err = require("kedge.images").install(c.dir .. "/images", {root = c.root,
        containerd_socket = c.o.containerd_socket, snapshotter = c.o.snapshotter})
      if not r then return nil, err end
      local changed, said = false, {}
      if r.k3s then
        changed = changed or r.k3s.written
        said[#said + 1] = (r.k3s.written and "written to " or "already in ") .. r.k3s.file
      end
      for _, ct in ipairs(r.containerd) do
        changed = changed or #ct.imported > 0
        said[#said + 1] = string.format("containerd %s: %d imported, %d already there", ct.socket,
          #ct.imported, #ct.already)
      end
      for _, why in ipairs(r.skipped) do said[#said + 1] = "skipped " .. why end
      return true, nil, changed, table.concat(said, "; ")
    end}
end

-- The agent's config text for this pack and site.
local function agent_config(c)
  local r = c.m.repo
  local upstream = is_upstream(r.url) and not c.o.offline
  c.agent_repo = upstream and r.url or (c.o.state_dir .. "/pack/repo.git")
  local lines = {
    "# Written by `kedge bootstrap` from a pack made " .. tostring(c.m.created) .. ".",
    "# kedge help agent and README \"Agent\" list every key.",
    "site: " .. c.site,
    "repo: " .. c.agent_repo,
    "ref: " .. json.encode(r.ref),
    "state-dir: " .. c.o.state_dir,
  }
  if c.verify then
    lines[#lines + 1] = "verify: " .. c.verify.verify
    lines[#lines + 1] = "trusted-keys: " .. c.verify.trusted_keys
  end
  if c.o.kubeconfig then lines[#lines + 1] = "kubeconfig: " .. c.o.kubeconfig end
  -- the images went into this containerd: the agent's preflight looks there
  if c.o.containerd_socket then lines[#lines + 1] = "containerd-socket: " .. c.o.containerd_socket end
  lines[#lines + 1] = ""
  return table.concat(lines, "\n")
end

local function step_agent(c)
  local systemd = require "kedge.agent.systemd"
  local text = agent_config(c)
  local uo = {root = c.root, exe = M.BIN, config = c.o.config, state_dir = c.o.state_dir, writable = {},
    config_text = text}
  local unit = under(c.root, "/" .. systemd.UNIT_DIR .. "/" .. systemd.UNIT)
  local conf = under(c.root, c.o.config)
  return {needed = not (same_text(unit, systemd.unit(uo)) and exists(conf)),
    what = string.format("install %s and %s (repo: %s)%s", unit, conf, c.agent_repo,
      exists(conf) and ", keeping the config that is there" or ""),
    run = function()
      local r, err = systemd.install(uo)
      if not r then return nil, err end
      return true
    end}
end

-- The pass, by the installed binary, from the copy.
local function step_pass(c)
  local kc = kubeconfig_of(c.o)
  local last = c.prior and c.prior.pass
  local same = c.prior and c.prior.manifest == c.manifest_sha and last and last.code == 0
  if not kc then
    c.no_cluster = true
    return {needed = false, what = "run one pass", skipped = "no kubeconfig (--kubeconfig, $KUBECONFIG or " ..
      under(c.root, "/etc/rancher/k3s/k3s.yaml") .. "): the pass did not run; the agent runs it once the cluster is up"}
  end
  local argv = {c.exe, "apply", "--site", c.site, "--repo", c.state .. "/pack/repo.git", "--ref", c.m.repo.ref,
    "--state-dir", c.state, "--kubeconfig", kc, "--no-progress"}
  if c.o.context then argv[#argv + 1] = "--context"; argv[#argv + 1] = c.o.context end
  if c.verify then
    for _, a in ipairs{"--verify", c.verify.verify, "--trusted-keys", c.verify.trusted_file} do argv[#argv + 1] = a end
  end
  if c.o.wait then argv[#argv + 1] = "--wait"; argv[#argv + 1] = tostring(c.o.wait) end
  -- a site that requires its images finds them in the pack as well
  for _, a in ipairs{"--pack", c.dir} do argv[#argv + 1] = a end
  if c.o.containerd_socket then
    for _, a in ipairs{"--containerd-socket", c.o.containerd_socket} do argv[#argv + 1] = a end
  end
  return {needed = not same or c.changed, what = "run one pass: kedge apply --site " .. c.site ..
    " from " .. c.state .. "/pack/repo.git",
    run = function()
      local r, err = proc.run{argv = argv, timeout = M.PASS_TIMEOUT}
      if not r then return nil, err end
      c.pass = {code = r.status, output = r.output, at = os.date("!%Y-%m-%dT%H:%M:%SZ")}
      if r.status ~= 0 then c.pass_failed = true end
      return true
    end}
end

local STEPS = {
  {"binary", step_binary}, {"repo", step_repo}, {"trust", step_trust}, {"charts", step_charts},
  {"images", step_images}, {"agent", step_agent}, {"pass", step_pass},
}

------------------------------------------------------------------------
-- the report on the stick

local function write_reports(c, results)
  local dir = c.reports .. "/" .. c.site
  local ok, err = kos.mkdir(dir, 493)
  if not ok then return nil, err end
  local doc = {site = c.site, at = os.date("!%Y-%m-%dT%H:%M:%SZ"), root = c.root, pack = {
      created = c.m.created, commit = c.m.repo.commit, manifest_sha256 = c.manifest_sha,
      signature = c.signature}, steps = results, pass = c.pass and {code = c.pass.code, at = c.pass.at}}
  ok, err = kos.write_atomic(dir .. "/bootstrap.json", json.encode(doc, {indent = 2, sort_keys = true}) .. "\n", 420)
  if not ok then return nil, err end
  if c.pass then
    kos.write_atomic(dir .. "/pass.log", c.pass.output or "", 420)
    -- under its id, as the outbox names it: a rerun's report joins the
    -- earlier ones and report collect delivers each once
    local d, text = require("kedge.report").show(c.state)
    if d and text then kos.write_atomic(dir .. "/" .. d.id .. ".json", text, 420) end
  end
  if c.exe and exists(c.exe) then
    local r = proc.run{argv = {c.exe, "status", "--state-dir", c.state}, timeout = 60}
    if r then kos.write_atomic(dir .. "/status.txt", r.output or "", 420) end
  end
  return dir
end

------------------------------------------------------------------------

-- o: the command line's options (site, root, state_dir, config,
-- trusted_keys, fingerprint, allow_unsigned, dry_run, kubeconfig, context,
-- offline, wait, containerd_socket, snapshotter). Returns the exit code.
function M.main(o, path, say)
  o.root = o.root or "/"
  o.state_dir = o.state_dir or require("kedge.cli").DEFAULT_STATE_DIR
  o.config = o.config or require("kedge.agent.config").DEFAULT_PATH
  if o.root ~= "/" and not exists(o.root) then
    io.stderr:write("kedge bootstrap: ", o.root, ": no such folder (--root)\n")
    return M.EXIT.failed
  end
  local function fail(code, msg)
    io.stderr:write("kedge bootstrap: ", msg, "\n")
    return code
  end
  -- 1: verify everything before anything is used
  local dir, cleanup = pack.open(path)
  if not dir then return fail(M.EXIT.refused, cleanup .. "; nothing was changed") end
  local m, info, kind = pack.verify_dir(dir, {trusted_keys = o.trusted_keys, fingerprint = o.fingerprint,
    allow_unsigned = o.allow_unsigned}, say)
  if not m then
    cleanup()
    return fail(kind == "failed" and M.EXIT.failed or M.EXIT.refused, info .. "; nothing was changed")
  end
  local sig = info.signature
  say("verify", string.format("%d files, signature %s%s", info.files, sig.state,
    sig.fingerprint and (" by " .. sig.fingerprint) or ""))
  if sig.state ~= "verified" then
    io.stderr:write("kedge bootstrap: warning: the pack's signature was not checked (--allow-unsigned)\n")
  end
  local site = o.site or default_site(m)
  local for_site = false
  for _, s in ipairs(m.sites) do for_site = for_site or s == site end
  if not for_site then
    cleanup()
    return fail(M.EXIT.refused, string.format("the pack is for %s, not for site %s (make one with kedge pack " ..
      "create --site %s, or give --site); nothing was changed", table.concat(m.sites, ", "), tostring(site),
      tostring(site)))
  end
  local c = {o = o, m = m, dir = dir, root = o.root, site = site, platform = own_platform(),
    state = under(o.root, o.state_dir), signature = sig,
    manifest_sha = digest.sha256_file(dir .. "/MANIFEST"),
    reports = (kos.stat(path).type == "dir" and dir or parent(path)) .. "/" .. pack.REPORTS}
  local prior_text = kos.read_file(c.state .. "/bootstrap.json", 1 << 20)
  c.prior = prior_text and json.decode(prior_text)
  -- 2..6: the install steps
  local results, code = {}, M.EXIT.ok
  for _, s in ipairs(STEPS) do
    local st, serr = s[2](c)
    if serr then
      cleanup()
      return fail(M.EXIT.failed, s[1] .. ": " .. serr)
    end
    if st then
      local res = {step = s[1], what = st.what}
      if st.skipped then
        res.result = "skipped: " .. st.skipped
        say(s[1], res.result)
      elseif not st.needed then
        res.result = "unchanged"
        say(s[1], "unchanged")
      elseif o.dry_run then
        res.result = "would " .. st.what
        say(s[1], res.result)
      else
        local ok, rerr, changed, detail = st.run()
        if not ok then
          cleanup()
          return fail(M.EXIT.failed, string.format("%s: %s (the steps before it are done; run kedge bootstrap " ..
            "again once fixed)", s[1], tostring(rerr)))
        end
        -- a step that looks for itself what is missing says whether it changed anything
        if changed == false then
          res.result = "unchanged" .. (detail and (": " .. detail) or "")
        else
          res.result = "done" .. (detail and (": " .. detail) or "")
          c.changed = true
        end
        say(s[1], changed == false and res.result or (st.what .. (detail and (": " .. detail) or "")))
      end
      results[#results + 1] = res
    end
  end
  if o.dry_run then
    cleanup()
    print("dry run: nothing was changed")
    return M.EXIT.ok
  end
  if c.pass then
    say("pass", string.format("exit code %d", c.pass.code))
  end
  if c.no_cluster then code = M.EXIT.no_cluster elseif c.pass_failed then code = M.EXIT.pass_failed end
  -- the node's own record, so a second run knows the pass is done
  local rec = {manifest = c.manifest_sha, commit = m.repo.commit, site = site,
    pass = c.pass and {code = c.pass.code, at = c.pass.at} or (c.prior and c.prior.pass)}
  if c.changed then
    local ok, werr = kos.mkdir(c.state, 448)
    if ok then ok, werr = kos.write_atomic(c.state .. "/bootstrap.json", json.encode(rec, {indent = 2}) .. "\n", 384) end
    if not ok then cleanup(); return fail(M.EXIT.failed, "cannot record the bootstrap: " .. tostring(werr)) end
  end
  -- 7: the report back on the stick
  local where, rerr = write_reports(c, results)
  if where then say("report", "written to " .. where) else
    io.stderr:write("kedge bootstrap: warning: no report on the pack: ", tostring(rerr), "\n")
  end
  cleanup()
  if not c.changed then print("nothing to do: the node holds this pack already")
  elseif code == M.EXIT.ok then print(string.format("bootstrapped site %s at %s", site, m.repo.commit:sub(1, 12)))
  elseif code == M.EXIT.no_cluster then print(string.format("installed site %s; the pass did not run (no kubeconfig)", site))
  else print(string.format("installed site %s; the pass failed (exit code %d, see %s)", site, c.pass.code,
    tostring(where) .. "/pass.log")) end
  return code
end

return M
