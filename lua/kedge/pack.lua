-- kedge.pack: what an offline site lacks, in one signed folder (or tar).
--
--   OUT/MANIFEST       JSON: {schema = 1, kind = "kedge-pack", created, kedge =
--                      {version, commit}, repo = {url, ref, refname, commit,
--                      signature}, sites, platforms, charts = [{name, version,
--                      digest, path, source}], images = [{ref, digest,
--                      platforms}], binaries = [{platform, path, sha256}],
--                      files = [{path, size, sha256}] sorted by path}
--   OUT/MANIFEST.sig   ssh-keygen -Y sign -n kedge-pack over MANIFEST's bytes
--   OUT/repo.git/      bare repo at the verified commit, signatures intact
--   OUT/charts/sha256/<hex>.tgz   the remote charts the sites need
--   OUT/images/        OCI image layout (kedge.images)
--   OUT/bin/linux-amd64/kedge, OUT/bin/linux-arm64/kedge
--   OUT/reports/SITE/  written by kedge bootstrap (not in MANIFEST)
--
-- A pack is made in OUT.tmp.<pid> and renamed into place; an interrupted
-- create leaves that folder, and the next create takes it over and keeps
-- the content-addressed files that still match their names. verify checks
-- the signature, then every listed file's size and sha256, and that nothing
-- else is there.
local core = require "kedge.core"
local digest = require "kedge.digest"
local git = require "kedge.git"
local json = require "kedge.json"
local kedge = require "kedge"
local kos = require "kedge.os"
local limits = require "kedge.limits"
local tar = require "kedge.tar"

local M = {}

M.NAMESPACE = "kedge-pack"
M.SCHEMA = 1
M.KIND = "kedge-pack"
M.PLATFORMS = {
  ["linux/amd64"] = {dir = "linux-amd64", machine = 62, arch = "x86_64"},
  ["linux/arm64"] = {dir = "linux-arm64", machine = 183, arch = "aarch64"},
}
M.REPORTS = "reports"
-- MANIFEST and its signature, and what bootstrap writes back, are the
-- only files a pack holds that MANIFEST does not list.
local UNLISTED = {MANIFEST = true, ["MANIFEST.sig"] = true}

local CHUNK = 1 << 20

------------------------------------------------------------------------
-- small file helpers

local function exists(path) return kos.stat(path) ~= nil end

local function parent(path) return path:match("^(.*)/[^/]*$") or "." end

function M.pid()
  local f = io.open("/proc/self/stat", "r")
  local line = f and f:read("l")
  if f then f:close() end
  return tonumber(line and line:match("^(%d+)")) or 0
end

-- Removes a folder kedge made (a leftover temporary folder, an old copy).
function M.remove_tree(path)
  if not kos.stat(path) then return true end
  local r, err = require("kedge.proc").run{argv = {"rm", "-rf", "--", path}, timeout = 600}
  if not r then return nil, err end
  if r.status ~= 0 then return nil, "cannot remove " .. path .. ": " .. (r.output or "") end
  return true
end

-- The largest binary a pack carries (kedge is a few MiB).
M.BINARY_MAX = 256 << 20

-- Copies a binary atomically (temp file, fsync, rename) with mode.
function M.copy_binary(src, dst, mode)
  local b, err = kos.read_file(src, M.BINARY_MAX)
  if not b then return nil, err end
  return kos.write_atomic(dst, b, mode)
end

-- The ELF machine of a file (62 x86_64, 183 aarch64), or nil, err.
function M.elf_machine(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local h = f:read(20)
  f:close()
  if not h or #h < 20 or h:sub(1, 4) ~= "\127ELF" then return nil, path .. " is not an ELF binary" end
  if h:byte(5) ~= 2 or h:byte(6) ~= 1 then return nil, path .. " is not a 64-bit little-endian ELF binary" end
  return h:byte(19) | (h:byte(20) << 8)
end

-- The platform (linux/amd64, linux/arm64) of an ELF machine number.
local function platform_of(machine)
  for name, p in pairs(M.PLATFORMS) do if p.machine == machine then return name end end
  return nil
end

-- A path as MANIFEST may list it: relative, no "." or ".." parts, no
-- empty part, printable, bounded.
function M.safe_path(p)
  if type(p) ~= "string" or p == "" or #p > limits.pack_path_bytes then return false end
  if p:find("[%z\1-\31\127\\]") or p:sub(1, 1) == "/" then return false end
  for part in (p .. "/"):gmatch("([^/]*)/") do
    if part == "" or part == "." or part == ".." then return false end
  end
  return true
end

local function unlisted(path)
  return UNLISTED[path] or path == M.REPORTS or path:sub(1, #M.REPORTS + 1) == M.REPORTS .. "/"
end

local function human(n)
  if n >= 1 << 30 then return string.format("%.1f GiB", n / (1 << 30)) end
  if n >= 1 << 20 then return string.format("%.1f MiB", n / (1 << 20)) end
  if n >= 1 << 10 then return string.format("%.1f KiB", n / (1 << 10)) end
  return n .. " B"
end
M.human = human

------------------------------------------------------------------------
-- tar: written with kedge.tar, read here (ustar only)

-- Writes the folder dir as a tar at path (through path.tmp.<pid>).
function M.write_tar(dir, path, progress)
  local entries, err = kos.walk(dir)
  if not entries then return nil, err end
  local tmp = path .. ".tmp." .. M.pid()
  local fo, oerr = io.open(tmp, "wb")
  if not fo then return nil, oerr end
  local function fail(msg)
    fo:close()
    os.remove(tmp)
    return nil, msg
  end
  local w = tar.writer(fo)
  for _, e in ipairs(entries) do
    local ok, werr
    if e.type == "dir" then
      ok, werr = w:dir(e.path .. "/")
    elseif e.type == "file" then
      ok, werr = w:file(e.path, dir .. "/" .. e.path, e.size, e.path:match("^bin/") and 493 or 420)
      if ok and progress then progress("tar", string.format("%s written", human(w.bytes))) end
    else
      return fail(dir .. "/" .. e.path .. ": only files and folders go into a pack")
    end
    if not ok then return fail("cannot write " .. path .. ": " .. tostring(werr)) end
  end
  local ok, werr = w:finish()
  if ok then ok, werr = fo:flush() end
  if not ok then return fail("cannot write " .. path .. ": " .. tostring(werr)) end
  fo:close()
  ok, werr = os.rename(tmp, path)
  if not ok then os.remove(tmp); return nil, werr end
  return kos.sync_dir(parent(path))
end

local function parse_octal(s, what)
  s = s:gsub("[%z ]+$", ""):gsub("^ +", "")
  if not s:match("^[0-7]+$") then return nil, what end
  return tonumber(s, 8)
end

-- Unpacks the tar at path into the (new, empty) folder dir: files and
-- folders only, every path checked, bounded. A short file is named.
function M.read_tar(path, dir)
  local fi, err = io.open(path, "rb")
  if not fi then return nil, err end
  local n = 0
  local function fail(msg) fi:close(); return nil, path .. ": " .. msg end
  while true do
    local h = fi:read(512)
    if not h or #h < 512 then return fail("truncated: the tar ends without its end marker") end
    if h == string.rep("\0", 512) then break end
    n = n + 1
    if n > limits.pack_files then return fail("more than " .. limits.pack_files .. " entries") end
    local sum = 0
    for i = 1, 512 do sum = sum + (i >= 149 and i <= 156 and 32 or h:byte(i)) end
    local want = parse_octal(h:sub(149, 156), "bad")
    if want ~= sum then return fail(string.format("entry %d: bad header checksum (not a tar, or damaged)", n)) end
    local name = h:sub(1, 100):gsub("%z.*$", "")
    local prefix = h:sub(346, 500):gsub("%z.*$", "")
    if prefix ~= "" then name = prefix .. "/" .. name end
    local kind = h:sub(157, 157)
    local size = parse_octal(h:sub(125, 136), "bad")
    if not size then return fail("entry " .. name .. ": bad size") end
    -- tar -C DIR . names everything ./NAME, and DIR itself ./
    local clean = name:gsub("^%./+", ""):gsub("/+$", "")
    if kind == "L" or kind == "x" or kind == "g" then
      return fail("entry " .. n .. ": a GNU or pax extended header; kedge reads ustar " ..
        "(kedge pack create --tar, or tar --format=ustar)")
    end
    if clean == "" and kind == "5" then
      -- the top folder: nothing to make
    elseif not M.safe_path(clean) then
      return fail("entry " .. name .. ": not a path a pack may hold")
    elseif kind == "5" then
      local ok, merr = kos.mkdir(dir .. "/" .. clean, 493)
      if not ok then return fail(merr) end
    elseif kind == "0" or kind == "\0" then
      if size > limits.pack_file_bytes then return fail("entry " .. name .. ": larger than the pack file limit") end
      local ok, merr = kos.mkdir(parent(dir .. "/" .. clean), 493)
      if not ok then return fail(merr) end
      local fo, oerr = io.open(dir .. "/" .. clean, "wb")
      if not fo then return fail(oerr) end
      local left = size
      while left > 0 do
        local b = fi:read(math.min(left, CHUNK))
        if not b then
          fo:close()
          return fail(string.format("truncated: entry %s has %d of its %d bytes", clean, size - left, size))
        end
        local wok, werr = fo:write(b)
        if not wok then fo:close(); return fail("cannot write " .. dir .. "/" .. clean .. ": " .. tostring(werr)) end
        left = left - #b
      end
      fo:close()
      local skip = (512 - size % 512) % 512
      if skip > 0 then
        local p = fi:read(skip)
        if not p or #p < skip then return fail("truncated after entry " .. clean) end
      end
    else
      return fail("entry " .. name .. ": only files and folders go into a pack (type " .. kind .. ")")
    end
  end
  fi:close()
  return true
end

------------------------------------------------------------------------
-- create

-- The folder to build in: a leftover OUT.tmp.<pid> of a create that is
-- no longer running is taken over (its finished files are reused).
local function claim_tmp(out, say)
  local mine = out .. ".tmp." .. M.pid()
  local dir, base = parent(out), out:match("[^/]+$")
  for _, name in ipairs(kos.read_dir(dir) or {}) do
    local other = name:sub(1, #base + 5) == base .. ".tmp." and name:sub(#base + 6)
    if other and other:match("^%d+$") and not exists("/proc/" .. other) and dir .. "/" .. name ~= mine then
      local ok = os.rename(dir .. "/" .. name, mine)
      if ok then
        say("resume", "continuing the interrupted create in " .. dir .. "/" .. name)
        return mine
      end
    end
  end
  local ok, err = kos.mkdir(mine, 493)
  if not ok then return nil, err end
  return mine
end

-- Syncs the repo (or takes what the state dir serves) and exports it as
-- tmp/repo.git. Returns the repo's MANIFEST entry and the opened tree.
local function take_repo(o, tmp, say)
  local commit, refname
  if o.repo then
    local g = {}
    for k, v in pairs(o.git or {}) do g[k] = v end
    g.repo, g.ref, g.state = o.repo, o.ref or "main", o.state_dir
    local r, err = git.sync(g)
    if not r then return nil, "the config repo: " .. err end
    if r.refused then return nil, "the config repo: " .. r.message end
    commit, refname = r.commit, r.ref
  end
  local tree, err = git.open(o.state_dir, commit)
  if not tree then return nil, "the config repo: " .. err end
  local info = tree:commit()
  commit, refname = tree:id(), refname or info.ref
  local dest = refname
  if not dest:match("^refs/") then dest = "refs/heads/kedge-pack" end
  local repo_dir = tmp .. "/repo.git"
  local have = exists(repo_dir) and git.store(repo_dir)
  local at = have and have:resolve(dest)
  if have then have:close() end
  if not (at and at.commit == commit) then
    local ok, rerr = M.remove_tree(repo_dir)
    if not ok then return nil, rerr end
    local c, xerr = git.export{src = o.state_dir .. "/mirror.git", rev = refname, ref = dest, out = repo_dir}
    if not c then return nil, "the config repo: " .. xerr end
    if c ~= commit then return nil, "the config repo moved while it was packed: run kedge pack create again" end
  end
  local sig = info.signature or {}
  local url = o.repo
  say("repo", string.format("%s at %s (%s), signature %s", tostring(url or o.state_dir), commit:sub(1, 12),
    refname, tostring(sig.state)))
  return {url = url, ref = o.ref or refname:gsub("^refs/heads/", ""):gsub("^refs/tags/", ""),
    refname = dest, commit = commit,
    signature = {state = sig.state, mode = sig.mode, principal = sig.principal, key = sig.key}}, tree
end

-- Renders every bundle of every site with a charts resolver that records
-- the remote archives; copies them into tmp/charts. Returns the charts'
-- MANIFEST entries and the rendered objects per site.
local function take_charts(o, tree, names, tmp, say)
  local site = require "kedge.site"
  local charts = require "kedge.charts"
  local repo, lerr, problems = site.load(tree)
  if not repo then
    local msg = {}
    for _, p in ipairs(problems or {}) do msg[#msg + 1] = tostring(p) end
    return nil, "the config repo does not load: " .. (#msg > 0 and table.concat(msg, "; ") or tostring(lerr))
  end
  if #names == 0 then names = repo.site_names end
  for _, n in ipairs(names) do
    if not repo.sites[n] then
      return nil, string.format("site %s is not in the config repo (sites/%s.yaml); it has %s", n, n,
        table.concat(repo.site_names, ", "))
    end
  end
  local R = charts.new{state_dir = o.state_dir, registry = o.registry}
  local got, list = {}, kedge.list({})
  -- this resolver's fetch also keeps what it answers in the pack: every
  -- remote chart and dependency a render asks for, and nothing else
  local fetch = R.fetch
  function R.fetch(self, spec)
    local bytes, info = fetch(self, spec)
    if bytes then
      local hex = info.digest:gsub("^sha256:", "")
      if not got[hex] then
        got[hex] = true
        local path = "charts/sha256/" .. hex .. ".tgz"
        local full = tmp .. "/" .. path
        if not (exists(full) and digest.sha256_file(full) == hex) then
          local ok, err = kos.mkdir(parent(full), 493)
          if ok then ok, err = kos.write_atomic(full, bytes, 420) end
          if not ok then error({pack = "cannot write " .. full .. ": " .. tostring(err)}) end
        end
        list[#list + 1] = {name = spec.name or spec.ref:match("[^/]+$"), version = info.version,
          digest = info.digest, path = path, source = spec}
      end
    end
    return bytes, info
  end
  local images = require "kedge.images"
  local refs, seen = {}, {}
  for _, n in ipairs(names) do
    local bundles, serr = site.select(repo, n)
    if not bundles then return nil, "site " .. n .. ": " .. tostring(serr) end
    for _, b in ipairs(bundles) do
      local ok, ms, rerr = pcall(site.render, repo, repo.sites[n], b, {charts = R, skipped = {}})
      if not ok then
        if type(ms) == "table" and ms.pack then return nil, ms.pack end
        error(ms, 0)
      end
      if not ms then return nil, "site " .. n .. ": " .. tostring(rerr) end
      local these, ierr = images.refs(ms.objects, b.extraImages)
      if not these then return nil, string.format("site %s, bundle %s: %s", n, b.name, ierr) end
      for _, r in ipairs(these) do
        if not seen[r] then seen[r] = true; refs[#refs + 1] = r end
      end
    end
  end
  table.sort(list, function(a, b) return a.path < b.path end)
  table.sort(refs)
  say("charts", string.format("%d remote chart%s for %d site%s", #list, #list == 1 and "" or "s",
    #names, #names == 1 and "" or "s"))
  return list, refs, names
end

-- The images the sites' objects name (and their bundles' extraImages),
-- pulled by digest for the platforms into tmp/images (kedge.images: each
-- blob once; a resumed create keeps the blobs it has). Returns the
-- MANIFEST entries.
local function take_images(o, refs, tmp, say)
  if #refs == 0 then return kedge.list({}) end
  local images = require "kedge.images"
  local reg = o.registry or {}
  local last = 0
  local s, err = images.pull(refs, tmp .. "/images", {platforms = o.platforms, config = reg.config,
    ca_file = reg.ca_file, insecure = reg.insecure, progress = function(ev)
      if ev.event == "image" then
        say("images", string.format("%d/%d %s", ev.n, ev.count, ev.ref))
      elseif ev.event == "bytes" and kos.monotonic() - last >= 1 then
        last = kos.monotonic()
        say("bytes", string.format("%s of %s fetched", human(ev.bytes), ev.ref))
      end
    end})
  if not s then return nil, "images: " .. err end
  say("images", string.format("%d image%s, %d blobs (%d fetched, %d reused), %s stored; %d blob%s shared " ..
    "between images saved %s", #s.images, #s.images == 1 and "" or "s", s.blobs, s.fetched, s.reused,
    human(s.stored_bytes), s.shared, s.shared == 1 and "" or "s", human(s.saved)))
  local list = kedge.list({})
  for _, i in ipairs(s.images) do
    list[#list + 1] = {ref = i.ref, digest = i.digest, platforms = kedge.list(i.platforms)}
  end
  return list, s
end

-- The kedge binary of each platform: the running one for its own, a
-- --kedge-binary FILE of that ELF machine, or build/<arch>/kedge next to
-- the running binary (./build.sh arm64 makes build/arm64/kedge).
local function take_binaries(o, tmp, say)
  local exe = kos.exe()
  local own = exe and platform_of(M.elf_machine(exe) or -1)
  local given = {}
  for _, f in ipairs(o.kedge_binaries or {}) do
    local m, err = M.elf_machine(f)
    if not m then return nil, "--kedge-binary " .. err end
    local p = platform_of(m)
    if not p then return nil, string.format("--kedge-binary %s: ELF machine %d is neither x86_64 (62) nor aarch64 (183)", f, m) end
    local wanted = false
    for _, q in ipairs(o.platforms) do wanted = wanted or q == p end
    if not wanted then
      return nil, string.format("--kedge-binary %s is built for %s (ELF machine %d), which --platform does not name",
        f, p, m)
    end
    given[p] = f
  end
  local list = kedge.list({})
  for _, p in ipairs(o.platforms) do
    local spec = M.PLATFORMS[p]
    local src = given[p] or (p == own and exe)
    if not src and exe then
      local dir = parent(exe)
      for _, cand in ipairs{dir .. "/" .. p:match("/(.*)$") .. "/kedge", dir .. "/" .. spec.arch .. "/kedge"} do
        if exists(cand) then src = cand; break end
      end
    end
    if not src then
      return nil, string.format("no kedge binary for %s: give --kedge-binary FILE (./build.sh %s builds one)",
        p, p:match("/(.*)$"))
    end
    local m, merr = M.elf_machine(src)
    if not m then return nil, merr end
    if m ~= spec.machine then
      return nil, string.format("%s is built for ELF machine %d, not %s (%d)", src, m, p, spec.machine)
    end
    local path = "bin/" .. spec.dir .. "/kedge"
    local full = tmp .. "/" .. path
    local hex = digest.sha256_file(src)
    if not hex then return nil, "cannot read " .. src end
    if not (exists(full) and digest.sha256_file(full) == hex) then
      local ok, err = kos.mkdir(parent(full), 493)
      if ok then ok, err = M.copy_binary(src, full, 493) end
      if not ok then return nil, err end
    end
    list[#list + 1] = {platform = p, path = path, sha256 = hex}
    say("binary", string.format("%s from %s", p, src))
  end
  return list
end

-- Every file under dir but MANIFEST, its signature and reports/, with its
-- size and sha256, sorted by path.
local function list_files(dir)
  local entries, err = kos.walk(dir)
  if not entries then return nil, err end
  local files = kedge.list({})
  for _, e in ipairs(entries) do
    if not unlisted(e.path) then
      if e.type == "file" then
        local hex, size = digest.sha256_file(dir .. "/" .. e.path)
        if not hex then return nil, size end
        files[#files + 1] = {path = e.path, size = size, sha256 = hex}
      elseif e.type ~= "dir" then
        return nil, dir .. "/" .. e.path .. ": only files and folders go into a pack"
      end
    end
  end
  return files
end

-- o: out, repo, ref, state_dir, git (kedge.git.sync options), sites (names;
-- empty: every site), platforms, sign_key, kedge_binaries, tar, registry
-- ({config=, ca_file=, insecure=}: charts and images), progress
-- (function(step, msg)). Returns {path=, manifest=, bytes=, images =
-- kedge.images.pull's summary or nil} or nil, err.
function M.create(o)
  local say = o.progress or function() end
  local out = o.out:gsub("/+$", "")
  local final = out
  if o.tar then
    if not out:match("%.tar$") then final = out .. ".tar" end
    out = final:gsub("%.tar$", "")
  end
  if exists(final) then
    return nil, final .. " exists: remove it, or give another OUT (a pack is never written over)"
  end
  for _, p in ipairs(o.platforms) do
    if not M.PLATFORMS[p] then return nil, "--platform " .. p .. ": kedge runs on linux/amd64 and linux/arm64" end
  end
  if o.sign_key then
    -- a key that cannot sign is refused before anything is fetched
    local ok, kerr = git.sshsig_sign(o.sign_key, M.NAMESPACE, "")
    if not ok then return nil, kerr end
  end
  local tmp, terr = claim_tmp(out, say)
  if not tmp then return nil, terr end
  -- what is done stays for the next create of the same OUT
  local function kept(msg)
    return nil, tostring(msg) .. " (" .. tmp .. " is kept: the next create of " .. final .. " resumes from it)"
  end
  local repo, tree = take_repo(o, tmp, say)
  if not repo then return kept(tree) end
  local charts, refs, names = take_charts(o, tree, o.sites or {}, tmp, say)
  tree:close()
  if not charts then return kept(refs) end
  local images, pulled = take_images(o, refs, tmp, say)
  if not images then return kept(pulled) end
  local binaries, berr = take_binaries(o, tmp, say)
  if not binaries then return kept(berr) end
  local files, ferr = list_files(tmp)
  if not files then return kept(ferr) end
  local total = 0
  for _, f in ipairs(files) do total = total + f.size end
  local m = {schema = M.SCHEMA, kind = M.KIND, created = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    kedge = {version = core.version, commit = core.commit}, repo = repo, sites = kedge.list(names),
    platforms = kedge.list(o.platforms), charts = charts, images = images, binaries = binaries,
    files = files}
  local text = json.encode(m, {indent = 2, sort_keys = true}) .. "\n"
  local ok, werr = kos.write_atomic(tmp .. "/MANIFEST", text, 420)
  if not ok then return kept(werr) end
  if o.sign_key then
    local sig, serr = git.sshsig_sign(o.sign_key, M.NAMESPACE, text)
    if not sig then return kept(serr) end
    ok, werr = kos.write_atomic(tmp .. "/MANIFEST.sig", sig, 420)
    if not ok then return kept(werr) end
    local who = git.sshsig_inspect(sig)
    say("sign", "MANIFEST signed with " .. who.fingerprint)
  else
    os.remove(tmp .. "/MANIFEST.sig")
    say("sign", "not signed (no --sign-key): bootstrap needs --allow-unsigned")
  end
  say("files", string.format("%d files, %s", #files, human(total)))
  if o.tar then
    ok, werr = M.write_tar(tmp, final, say)
    if not ok then return kept(werr) end
    M.remove_tree(tmp)
  else
    ok, werr = os.rename(tmp, final)
    if not ok then return kept("cannot rename " .. tmp .. " to " .. final .. ": " .. tostring(werr)) end
    kos.sync_dir(parent(final))
  end
  return {path = final, manifest = m, bytes = total, images = pulled}
end

------------------------------------------------------------------------
-- verify

-- The trust: {trusted_keys = FILE} | {fingerprint = "SHA256:..."} |
-- {allow_unsigned = true}. Returns {state=, fingerprint=, principal=}.
local function check_signature(dir, text, trust)
  local sig = kos.read_file(dir .. "/MANIFEST.sig", 1 << 20)
  if not sig then
    if trust.allow_unsigned then return {state = "unsigned (allowed with --allow-unsigned)"} end
    return nil, dir .. "/MANIFEST.sig is missing: the pack is not signed (make it with --sign-key, " ..
      "or accept it with --allow-unsigned)"
  end
  local signers, name
  if trust.trusted_keys then
    local err
    signers, err = kos.read_file(trust.trusted_keys, 4 << 20)
    if not signers then return nil, "--trusted-keys: " .. err end
    name = trust.trusted_keys
  elseif trust.fingerprint then
    local claim, err = git.sshsig_inspect(sig)
    if not claim then return nil, dir .. "/MANIFEST.sig: " .. err end
    if claim.fingerprint ~= trust.fingerprint then
      return nil, string.format("%s/MANIFEST.sig is signed by %s, not by the key --fingerprint names (%s)",
        dir, claim.fingerprint, trust.fingerprint)
    end
    signers = "fingerprint namespaces=\"" .. M.NAMESPACE .. "\" " .. claim.public_key .. "\n"
    name = "--fingerprint"
  elseif trust.allow_unsigned then
    return {state = "not checked (--allow-unsigned)"}
  else
    return nil, "the pack is signed: give --trusted-keys FILE (allowed signers) or --fingerprint SHA256:..."
  end
  local r, err = git.sshsig_verify(sig, signers, nil, M.NAMESPACE, text, name)
  if not r then return nil, dir .. "/MANIFEST.sig: " .. err end
  return {state = "verified", fingerprint = r.fingerprint, principal = r.principal}
end

local function check_manifest(m)
  if type(m) ~= "table" or m.kind ~= M.KIND then return "not a kedge pack's MANIFEST" end
  if m.schema ~= M.SCHEMA then
    return string.format("MANIFEST schema %s: this kedge reads schema %d (use the kedge that made it)",
      tostring(m.schema), M.SCHEMA)
  end
  if type(m.files) ~= "table" or #m.files > limits.pack_files then return "MANIFEST: files is not a list" end
  if type(m.sites) ~= "table" or type(m.repo) ~= "table" then return "MANIFEST: sites or repo missing" end
  return nil
end

-- Verifies the pack folder dir. Returns the manifest and {signature=,
-- files=, bytes=}, or nil, err, kind ("refused": not to be used;
-- "failed": could not be read).
function M.verify_dir(dir, trust, progress)
  local say = progress or function() end
  local text, rerr = kos.read_file(dir .. "/MANIFEST", limits.pack_manifest_bytes)
  if not text then return nil, rerr, "failed" end
  local sig, serr = check_signature(dir, text, trust)
  if not sig then return nil, serr, "refused" end
  local m = json.decode(text)
  local bad = check_manifest(m)
  if bad then return nil, dir .. "/" .. bad, "refused" end
  local listed, total = {}, 0
  for i, f in ipairs(m.files) do
    if type(f) ~= "table" or not M.safe_path(f.path) or unlisted(f.path) or math.type(f.size) ~= "integer"
      or type(f.sha256) ~= "string" or not f.sha256:match("^%x+$") or #f.sha256 ~= 64 then
      return nil, string.format("%s/MANIFEST: files[%d] is not {path, size, sha256} of a path a pack may hold",
        dir, i), "refused"
    end
    if listed[f.path] then return nil, dir .. "/MANIFEST lists " .. f.path .. " twice", "refused" end
    listed[f.path] = f
  end
  local entries, werr = kos.walk(dir)
  if not entries then return nil, werr, "failed" end
  local seen = {}
  for _, e in ipairs(entries) do
    if not unlisted(e.path) then
      if e.type == "file" then
        if not listed[e.path] then
          return nil, string.format("%s/%s is not in MANIFEST: a pack holds only what it lists (remove it)",
            dir, e.path), "refused"
        end
        seen[e.path] = e
      elseif e.type ~= "dir" then
        return nil, string.format("%s/%s is a %s: a pack holds only files and folders", dir, e.path, e.type),
          "refused"
      end
    end
  end
  for i, f in ipairs(m.files) do
    local e = seen[f.path]
    if not e then return nil, string.format("%s/%s is missing (MANIFEST lists it)", dir, f.path), "refused" end
    if e.size ~= f.size then
      return nil, string.format("%s/%s has %d bytes, MANIFEST says %d: truncated or changed", dir, f.path,
        e.size, f.size), "refused"
    end
    local hex, herr = digest.sha256_file(dir .. "/" .. f.path)
    if not hex then return nil, herr, "failed" end
    if hex ~= f.sha256 then
      return nil, string.format("%s/%s: sha256 %s, MANIFEST says %s: the file was changed", dir, f.path,
        hex, f.sha256), "refused"
    end
    total = total + f.size
    if i % 200 == 0 then say("verify", string.format("%d of %d files", i, #m.files)) end
  end
  return m, {signature = sig, files = #m.files, bytes = total}
end

-- A temporary folder for a tar's content, next to nothing the pack owns.
local function temp_dir()
  local base = os.getenv("TMPDIR")
  if not base or base == "" then base = "/tmp" end
  local dir = string.format("%s/kedge-pack.%d.%d", base, M.pid(), math.floor(kos.monotonic() * 1000))
  local ok, err = kos.mkdir(dir, 448)
  if not ok then return nil, err end
  return dir
end

-- A pack folder or tar, ready to read: the folder, and a cleanup function
-- (a tar is unpacked into a temporary folder first).
function M.open(path)
  local st, err = kos.stat(path)
  if not st then return nil, err end
  if st.type == "dir" then return path:gsub("/+$", ""), function() end end
  local dir, derr = temp_dir()
  if not dir then return nil, derr end
  local ok, terr = M.read_tar(path, dir)
  if not ok then
    M.remove_tree(dir)
    return nil, terr
  end
  return dir, function() M.remove_tree(dir) end
end

-- Verifies a pack folder or tar: as verify_dir, for any path.
function M.verify(path, trust, progress)
  local dir, cleanup = M.open(path)
  if not dir then return nil, cleanup, "refused" end
  local m, info, kind = M.verify_dir(dir, trust, progress)
  cleanup()
  return m, info, kind
end

-- The MANIFEST of a pack folder, unverified (kedge pack ls).
function M.read_manifest(dir)
  local text, err = kos.read_file(dir .. "/MANIFEST", limits.pack_manifest_bytes)
  if not text then return nil, err end
  local m, jerr = json.decode(text)
  if m == nil then return nil, dir .. "/MANIFEST: " .. tostring(jerr) end
  local bad = check_manifest(m)
  if bad then return nil, dir .. "/" .. bad end
  return m
end

return M
