-- kedge.images.pull: container images from their registries into an OCI
-- image layout, through the OCI distribution API (kedge.oci: auth.json,
-- basic auth and tokens, a CA, plain HTTP only for 127.0.0.0/8 or hosts
-- named insecure). Each reference resolves to a manifest or an index; of
-- an index the platforms asked for are pulled and the index is kept
-- whole. Every blob is stored once, checked against its size and sha256
-- as it streams (kedge.oci's blob_file); a blob already in the layout is
-- not fetched again, so a rerun after a failure resumes. index.json names
-- an image only once all its blobs are in, with the reference as both
-- org.opencontainers.image.ref.name and io.containerd.image.name.
local core = require "kedge.core"
local images = require "kedge.images"
local kos = require "kedge.os"
local layout_mod = require "kedge.images.layout"
local limits = require "kedge.limits"
local oci = require "kedge.oci"

local M = {}

M.LOCK_WAIT = 10

-- The host the distribution API of a registry answers on.
local API_HOST = {["docker.io"] = "registry-1.docker.io"}

-- The platform kedge runs on, as OCI names it ("linux/amd64").
local ARCH = {x86_64 = "amd64", aarch64 = "arm64", arm = "arm", i386 = "386", riscv64 = "riscv64"}
function M.host_platform() return "linux/" .. (ARCH[core.arch] or core.arch) end

-- "linux/arm/v7" → {os =, architecture =, variant =} or nil, err.
function M.parse_platform(s)
  local os_, arch, variant = tostring(s):match("^(%w+)/([%w_]+)/?(%w*)$")
  if not os_ then return nil, string.format("platform %q is not OS/ARCH[/VARIANT] (linux/amd64)", tostring(s)) end
  return {os = os_, architecture = arch, variant = variant ~= "" and variant or nil}
end

local function platform_text(p)
  if type(p) ~= "table" then return "?" end
  return tostring(p.os) .. "/" .. tostring(p.architecture) .. (p.variant and ("/" .. tostring(p.variant)) or "")
end

-- Whether a manifest's platform is one asked for (a variant asked for
-- must match; none asked for takes any).
local function wanted(p, platforms)
  if type(p) ~= "table" then return false end
  for _, w in ipairs(platforms) do
    if p.os == w.os and p.architecture == w.architecture and (not w.variant or p.variant == w.variant) then
      return true
    end
  end
  return false
end

local function is_type(mt, list)
  for _, x in ipairs(list) do if x == mt then return true end end
  return false
end

-- A descriptor's digest and size, checked: d, size or nil, err.
local function descriptor(what, desc)
  if type(desc) ~= "table" or not layout_mod.hex_of(desc.digest) then
    return nil, what .. ": a descriptor without a sha256 digest"
  end
  local size = math.tointeger(desc.size)
  if not size or size < 0 or size > limits.image_blob_bytes then
    return nil, string.format("%s: %s has no size of 0 to %d bytes (KD_LIMIT_IMAGE_BLOB_BYTES)", what,
      desc.digest, limits.image_blob_bytes)
  end
  return desc.digest, size
end

local Puller = {}
Puller.__index = Puller

-- One blob of a manifest: fetched unless the layout holds it; counted for
-- the summary (each digest once, and how many manifests, one per image and
-- platform, use it).
function Puller:blob(img, desc, seen)
  local d, size = descriptor(img.what, desc)
  if not d then return nil, size end
  if not seen[d] then
    seen[d] = true
    local u = self.uses[d]
    if not u then
      u = {size = size, uses = 0}
      self.uses[d] = u
      self.order[#self.order + 1] = d
    end
    u.uses = u.uses + 1
  end
  if self.layout:has(d, size) then return true end
  local ok, err = self.client:blob_file(img.host, img.p.repository, d, size, self.layout:path(d), {
    progress = function(n)
      self.bytes = self.bytes + n
      self:event{event = "bytes", ref = img.ref, digest = d, bytes = self.bytes}
    end})
  if not ok then return nil, "image " .. img.ref .. ": " .. err end
  self.fetched[d] = true
  return true
end

-- A manifest (one platform): its config and layers, then itself. own:
-- the manifest is the image's (no index), so its config says the
-- platform, checked before any layer is fetched.
function Puller:manifest(img, m, bytes, d, mt, own)
  if m.schemaVersion ~= 2 or not is_type(mt, oci.MANIFEST_TYPES) then
    return nil, string.format("image %s: %s is a %s, not an image manifest (schema 2 / OCI)", img.ref, d, tostring(mt))
  end
  local layers = type(m.layers) == "table" and m.layers or {}
  if #layers > limits.image_layers then
    return nil, string.format("image %s: %s has more than %d layers (KD_LIMIT_IMAGE_LAYERS)", img.ref, d, limits.image_layers)
  end
  local seen = {}
  local ok, err = self:blob(img, m.config, seen)
  if not ok then return nil, err end
  if own then
    local cfg = self.layout:read_json(m.config.digest)
    local pl = type(cfg) == "table" and {os = cfg.os, architecture = cfg.architecture, variant = cfg.variant}
    if pl and pl.os and pl.architecture then
      if not wanted(pl, self.platforms) then
        return nil, string.format("image %s is for %s, not %s", img.ref, platform_text(pl),
          table.concat(self.platform_names, ", "))
      end
      img.platforms[1] = platform_text(pl)
    end
  end
  for _, l in ipairs(layers) do
    if type(l) == "table" and type(l.urls) == "table" and #l.urls > 0 then
      return nil, string.format("image %s: layer %s is a foreign layer (urls:), which kedge does not fetch",
        img.ref, tostring(l.digest))
    end
    ok, err = self:blob(img, l, seen)
    if not ok then return nil, err end
  end
  return self.layout:put(d, bytes)
end

-- An index: the manifests of the platforms asked for, then the index
-- itself, byte for byte.
function Puller:index(img, m, bytes, d)
  local list = type(m.manifests) == "table" and m.manifests or {}
  if #list > limits.image_index_entries then
    return nil, string.format("image %s: the index lists more than %d manifests (KD_LIMIT_IMAGE_INDEX_ENTRIES)",
      img.ref, limits.image_index_entries)
  end
  local has = {}
  for _, e in ipairs(list) do
    has[#has + 1] = platform_text(type(e) == "table" and e.platform)
    if type(e) == "table" and wanted(e.platform, self.platforms) then
      local cd, cerr = descriptor(img.what, e)
      if not cd then return nil, cerr end
      local cm, cbytes, _, cmt = self.client:manifest(img.host, img.p.repository, cd,
        {type(e.mediaType) == "string" and e.mediaType or oci.MANIFEST_TYPES[1]})
      if not cm then return nil, "image " .. img.ref .. ": " .. cbytes end
      local ok, err = self:manifest(img, cm, cbytes, cd, cmt)
      if not ok then return nil, err end
      img.platforms[#img.platforms + 1] = platform_text(e.platform)
    end
  end
  if #img.platforms == 0 then
    return nil, string.format("image %s: none of its platforms is %s (the index has %s)", img.ref,
      table.concat(self.platform_names, ", "), #has > 0 and table.concat(has, ", ") or "none")
  end
  return self.layout:put(d, bytes)
end

-- One reference: resolve it, pull what its platforms need.
function Puller:image(ref)
  local p, perr = images.parse_ref(ref)
  if not p then return nil, perr end
  local host = API_HOST[p.registry] or p.registry
  local img = {ref = p.ref, p = p, host = host, platforms = {}, what = "image " .. p.ref}
  local m, bytes, d, mt = self.client:manifest(host, p.repository, p.digest or p.tag, oci.IMAGE_TYPES)
  if not m then return nil, "image " .. p.ref .. ": " .. bytes end
  local ok, err
  if is_type(mt, oci.INDEX_TYPES) then ok, err = self:index(img, m, bytes, d)
  else ok, err = self:manifest(img, m, bytes, d, mt, true) end
  if not ok then return nil, err end
  return {ref = p.ref, digest = d, mediaType = mt, size = #bytes, platforms = img.platforms}
end

function Puller:event(ev)
  if self.progress then self.progress(ev) end
end

-- Puts the image's entry into index.json: replacing one of the same
-- reference, keeping every other.
function Puller:record(r)
  local idx, err = self.layout:index()
  if not idx then return nil, err end
  local out = {}
  for _, e in ipairs(idx.manifests) do
    local a = type(e) == "table" and type(e.annotations) == "table" and e.annotations or {}
    if a[images.ANNOTATION_REF] ~= r.ref and a[images.ANNOTATION_NAME] ~= r.ref then out[#out + 1] = e end
  end
  out[#out + 1] = {mediaType = r.mediaType, digest = r.digest, size = r.size,
    annotations = {[images.ANNOTATION_REF] = r.ref, [images.ANNOTATION_NAME] = r.ref}}
  table.sort(out, function(a, b)
    local x, y = (a.annotations or {})[images.ANNOTATION_REF] or "", (b.annotations or {})[images.ANNOTATION_REF] or ""
    return x < y
  end)
  idx.manifests = out
  return self.layout:write_index(idx)
end

-- A progress function for pull that writes lines to out (a file handle,
-- default io.stderr): each image as it starts ("image 2/5 REF") and the
-- bytes fetched at most once a second, so a long download shows it moves.
function M.progress_lines(out)
  out = out or io.stderr
  local last = 0
  return function(ev)
    if ev.event == "image" then
      out:write(string.format("image %d/%d %s\n", ev.n, ev.count, ev.ref))
    elseif ev.event == "bytes" and kos.monotonic() - last >= 1 then
      last = kos.monotonic()
      out:write(string.format("  %.1f MiB fetched\n", ev.bytes / 1048576))
    end
  end
end

-- Pulls refs into the layout at dir (made when missing; another pull into
-- it is waited for up to opts.lock_timeout seconds, default M.LOCK_WAIT). opts: platforms
-- (list of "os/arch[/variant]", default the host's), progress(ev) (ev.event
-- "image" {ref, n, count} before each image, "bytes" {ref, digest, bytes
-- fetched so far} as blobs stream, "done" {ref, digest, n, count}), and
-- the kedge.oci client options (config, auths, ca_file, insecure,
-- timeout) or client. Returns the summary {images = {{ref, digest,
-- platforms}}, blobs (configs and layers, each once), fetched, reused
-- (already in the layout), bytes (fetched), stored_bytes (the blobs'
-- sizes, each once), shared (blobs more than one manifest, an image's
-- platform, uses), saved (the bytes a copy per manifest would have cost
-- more), requests and connections (HTTP, to the registries)} or nil,
-- err: the image that failed named, index.json as it was
-- before it, its finished blobs kept for the rerun.
function M.pull(refs, dir, opts)
  opts = opts or {}
  if #refs > limits.images then return nil, string.format("more than %d images (KD_LIMIT_IMAGES)", limits.images) end
  local platforms, names = {}, {}
  for _, s in ipairs(opts.platforms or {M.host_platform()}) do
    local pl, err = M.parse_platform(s)
    if not pl then return nil, err end
    platforms[#platforms + 1], names[#names + 1] = pl, s
  end
  local client, cerr = opts.client or oci.client(opts)
  if not client then return nil, cerr end
  local layout, lerr = layout_mod.open(dir, true)
  if not layout then return nil, lerr end
  -- one writer at a time: a flock on the layout's marker file, which
  -- leaves it as it is (no lock file joins the layout)
  local lock <close>, kerr = kos.lock(dir .. "/oci-layout", opts.lock_timeout or M.LOCK_WAIT)
  if not lock then return nil, "image layout " .. dir .. ": another pull is writing it (" .. tostring(kerr) .. ")" end
  layout:clean()
  local self = setmetatable({client = client, layout = layout, platforms = platforms, platform_names = names,
    progress = opts.progress, uses = {}, order = {}, fetched = {}, bytes = 0}, Puller)
  local done = {}
  for n, ref in ipairs(refs) do
    self:event{event = "image", ref = ref, n = n, count = #refs}
    local r, err = self:image(ref)
    if not r then return nil, err end
    local ok, rerr = self:record(r)
    if not ok then return nil, rerr end
    done[#done + 1] = {ref = r.ref, digest = r.digest, platforms = r.platforms}
    self:event{event = "done", ref = r.ref, digest = r.digest, n = n, count = #refs}
  end
  local st = client.conn and client.conn:stats() or {}
  local s = {images = done, blobs = #self.order, fetched = 0, reused = 0, bytes = self.bytes,
    stored_bytes = 0, shared = 0, saved = 0, requests = st.requests or 0, connections = st.connections or 0}
  for _, d in ipairs(self.order) do
    local u = self.uses[d]
    s.stored_bytes = s.stored_bytes + u.size
    if self.fetched[d] then s.fetched = s.fetched + 1 else s.reused = s.reused + 1 end
    if u.uses > 1 then
      s.shared = s.shared + 1
      s.saved = s.saved + u.size * (u.uses - 1)
    end
  end
  return s
end

return M
