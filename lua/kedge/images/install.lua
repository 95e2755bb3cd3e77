-- kedge.images.install: an OCI image layout made available to a node's
-- container runtime. For k3s, an OCI archive (a tar of the layout's
-- reachable blobs, kedge.tar) goes into agent/images/, which k3s
-- imports at every start; into a running containerd's k8s.io namespace
-- (where kubelet looks), `ctr images import` of the same archive. Both are
-- idempotent: the archive is named by the layout's index.json, so the
-- same layout is the same file, and containerd is asked what it holds
-- first, so a second run imports nothing and says so.
local digest = require "kedge.digest"
local images = require "kedge.images"
local kos = require "kedge.os"
local layout_mod = require "kedge.images.layout"
local tar = require "kedge.tar"

local M = {}

M.K3S_DIR = "var/lib/rancher/k3s"
M.K3S_IMAGES = M.K3S_DIR .. "/agent/images"
-- where containerd listens: k3s's own, then a stand-alone containerd's
M.SOCKETS = {"run/k3s/containerd/containerd.sock", "run/containerd/containerd.sock"}
M.IMPORT_TIMEOUT = 1800

local function under(root, rel) return (root:gsub("/+$", "")) .. "/" .. rel end

-- The archive of a layout written to path (temp file, fsync, rename):
-- oci-layout, index.json and every blob index.json reaches. Returns the
-- bytes written or nil, err; on failure path is untouched.
function M.write_archive(layout, path)
  local blobs, idx_or_err = layout:reachable()
  if not blobs then return nil, idx_or_err end
  local index, err = kos.read_file(layout.dir .. "/index.json")
  if not index then return nil, "image layout " .. layout.dir .. ": " .. tostring(err) end
  local tmp = path:gsub("[^/]*$", ".%0.partial")
  local f, oerr = io.open(tmp, "wb")
  if not f then return nil, tostring(oerr) end
  local w = tar.writer(f)
  local ok, werr = w:data("oci-layout", layout_mod.LAYOUT_FILE)
  if ok then ok, werr = w:data("index.json", index) end
  if ok then ok, werr = w:dir("blobs/") end
  if ok then ok, werr = w:dir("blobs/sha256/") end
  for _, b in ipairs(blobs) do
    if not ok then break end
    ok, werr = w:file("blobs/sha256/" .. layout_mod.hex_of(b.digest), layout:path(b.digest), b.size)
  end
  if ok then ok, werr = w:finish() end
  local cok, cerr = f:close()
  if ok and not cok then ok, werr = nil, cerr end
  if ok then ok, werr = kos.fsync(tmp) end
  if ok then ok, werr = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    return nil, "writing " .. path .. ": " .. tostring(werr)
  end
  kos.sync_dir(path:match("^(.*)/") or ".")
  return w.bytes
end

-- The archive's file name: the same layout (its index.json) gives the same.
local function archive_name(layout)
  local index = kos.read_file(layout.dir .. "/index.json") or ""
  return "kedge-images-" .. digest.sha256(index):sub(1, 16) .. ".tar"
end

-- k3s: the archive in agent/images/ when k3s is installed under root (or
-- into opts.k3s_images_dir). Returns {file =, written = bool} or nil (no
-- k3s), or nil, err.
local function to_k3s(layout, opts, root)
  local dir = opts.k3s_images_dir
  if dir == false then return nil end
  if dir == nil or dir == "auto" then
    local st = kos.stat(under(root, M.K3S_DIR))
    if not st or st.type ~= "dir" then return nil end
    dir = under(root, M.K3S_IMAGES)
  end
  local ok, err = kos.mkdir(dir, 0755)
  if not ok then return nil, "k3s images folder " .. dir .. ": " .. tostring(err) end
  local file = dir .. "/" .. archive_name(layout)
  if kos.stat(file) then return {file = file, written = false} end
  local n, werr = M.write_archive(layout, file)
  if not n then return nil, werr end
  return {file = file, written = true, bytes = n}
end

-- The containerd sockets to import into: opts.containerd_socket (a path,
-- or nil / "auto": those of M.SOCKETS under root that exist; false: none).
local function sockets(opts, root)
  local s = opts.containerd_socket
  if s == false then return {} end
  if s ~= nil and s ~= "auto" then return {s} end
  local out = {}
  for _, rel in ipairs(M.SOCKETS) do
    local st = kos.stat(under(root, rel))
    if st and st.type == "other" then out[#out + 1] = under(root, rel) end
  end
  return out
end

-- The layout's references whose digest containerd at socket lacks.
local function lacking(want, copts)
  local names = {}
  for ref in pairs(want) do names[#names + 1] = ref end
  table.sort(names)
  local have, err = images.containerd_refs(copts, names)
  if not have then return nil, err end
  local out = {}
  for ref, d in pairs(want) do
    if have[ref] ~= d then out[#out + 1] = ref end
  end
  table.sort(out)
  return out
end

-- Imports the archive into containerd at socket unless it holds every
-- image already. Returns {socket =, imported = {ref...}, already = {ref...}}.
local function to_containerd(layout, want, socket, opts, archive)
  local copts = {containerd_socket = socket, ctr = opts.ctr, timeout = opts.timeout}
  local missing, err = lacking(want, copts)
  if not missing then return nil, err end
  local out = {socket = socket, imported = missing, already = {}}
  for ref in pairs(want) do
    local skip = false
    for _, m in ipairs(missing) do if m == ref then skip = true end end
    if not skip then out.already[#out.already + 1] = ref end
  end
  table.sort(out.already)
  if #missing == 0 then return out end
  local file, tmp = archive, nil
  if not file then
    tmp = (opts.tmp_dir or os.getenv("TMPDIR") or "/tmp") .. "/" .. archive_name(layout)
    local n, werr = M.write_archive(layout, tmp)
    if not n then return nil, werr end
    file = tmp
  end
  local argv = images.ctr_argv(copts, "images", "import")
  if opts.platform then argv[#argv + 1] = "--platform"; argv[#argv + 1] = opts.platform end
  if opts.snapshotter then argv[#argv + 1] = "--snapshotter"; argv[#argv + 1] = opts.snapshotter end
  argv[#argv + 1] = file
  local r, rerr = require("kedge.proc").run{argv = argv, timeout = opts.import_timeout or M.IMPORT_TIMEOUT}
  if tmp then os.remove(tmp) end
  if not r then return nil, "containerd at " .. socket .. ": " .. tostring(rerr) end
  if not r.exited or r.status ~= 0 then
    return nil, string.format("containerd at %s: ctr images import %s failed (%s): %s", socket, file,
      r.timed_out and "timed out" or ("exit " .. r.status), (r.output:gsub("%s+$", ""):sub(-500)))
  end
  local still, serr = lacking(want, copts)
  if not still then return nil, serr end
  if #still > 0 then
    return nil, string.format("containerd at %s: after ctr images import it still lacks %s", socket,
      table.concat(still, ", "))
  end
  return out
end

-- Installs the layout at dir. opts: root ("/"), k3s_images_dir (nil or
-- "auto": ROOT/var/lib/rancher/k3s/agent/images when ROOT/var/lib/rancher/k3s
-- is a folder; a folder; false: not), containerd_socket (nil or "auto":
-- the sockets of M.SOCKETS under root that exist; a path; false: none),
-- ctr (the command, default "ctr"), platform and snapshotter (passed to
-- ctr images import), tmp_dir (where the archive for ctr goes when k3s
-- has none, default $TMPDIR or /tmp). Returns {k3s = {file, written} or
-- nil, containerd = {{socket, imported, already}...}, skipped = {why...}}
-- or nil, err.
function M.install(dir, opts)
  opts = opts or {}
  local root = opts.root or "/"
  local layout, err = layout_mod.open(dir, false)
  if not layout then return nil, err end
  local want, werr = images.layout_refs(dir)
  if not want then return nil, werr end
  local out = {containerd = {}, skipped = {}}
  local k, kerr = to_k3s(layout, opts, root)
  if kerr then return nil, kerr end
  out.k3s = k
  if not k then out.skipped[#out.skipped + 1] = "k3s: no " .. under(root, M.K3S_DIR) end
  local socks = sockets(opts, root)
  if #socks == 0 then out.skipped[#out.skipped + 1] = "containerd: no socket under " .. root end
  for _, s in ipairs(socks) do
    local c, cerr = to_containerd(layout, want, s, opts, k and k.file)
    if not c then return nil, cerr end
    out.containerd[#out.containerd + 1] = c
  end
  return out
end

return M
