-- kedge.images: the container images a site needs, where they are, and
-- getting them there. References found in rendered objects (refs), named
-- as containerd names them (parse_ref); which of them a node's containerd
-- or an OCI image layout already holds (present); pulling them from their
-- registries into an OCI image layout (pull, kedge.images.pull); and
-- installing a layout into k3s's images folder and containerd's k8s.io
-- namespace (install, kedge.images.install).
--
--   local refs = images.refs(objects, bundle.extraImages)
--   local r = images.parse_ref("nginx")   -- docker.io, library/nginx, latest
--   local where = images.present(refs, {layouts = {"/media/usb/images"}})
local json = require "kedge.json"
local kos = require "kedge.os"
local limits = require "kedge.limits"

local M = {}

M.DEFAULT_REGISTRY = "docker.io"
M.ANNOTATION_REF = "org.opencontainers.image.ref.name"
M.ANNOTATION_NAME = "io.containerd.image.name"
M.NAMESPACE = "k8s.io"

------------------------------------------------------------------------
-- references

-- One path component of a repository: lowercase alphanumerics joined by
-- ".", "_", "__" or dashes (the distribution reference grammar).
local function component_ok(c)
  if c == "" or not c:match("^[a-z0-9]") or not c:match("[a-z0-9]$") then return false end
  local rest = c:gsub("[a-z0-9]+", "a")
  -- what is left between alphanumerics: "." "_" "__" or "-"+
  for sep in rest:gmatch("[^a]+") do
    if not (sep == "." or sep == "_" or sep == "__" or sep:match("^%-+$")) then return false end
  end
  return true
end

local function domain_ok(d)
  local host, port = d:match("^([^:]+):(%d+)$")
  host = host or d
  if port and (#port > 5 or tonumber(port) > 65535) then return false end
  for part in (host .. "."):gmatch("([^.]*)%.") do
    if not part:match("^[%w]$") and not part:match("^[%w][%w-]*[%w]$") then return false end
  end
  return not d:find(":", 1, true) or port ~= nil
end

-- "nginx", "ghcr.io/org/app:v1", "reg:5000/x@sha256:…" → {registry =,
-- repository =, tag =, digest =, name = "registry/repository", ref = the
-- reference as containerd names it}, or nil, err. As Docker and containerd
-- normalise: no registry is docker.io, a one-part name there is under
-- library/, no tag and no digest is :latest, and with a digest the tag is
-- dropped from the name (containerd stores name@digest).
function M.parse_ref(s)
  if type(s) ~= "string" then return nil, "an image reference must be a string, not a " .. type(s) end
  local function bad(why) return nil, string.format("%q is not an image reference: %s", s, why) end
  if s == "" then return bad("it is empty") end
  if #s > 512 then return bad("longer than 512 characters") end
  local rest, dg = s, nil
  local at = s:find("@", 1, true)
  if at then
    rest, dg = s:sub(1, at - 1), s:sub(at + 1)
    if not dg:match("^sha256:%x+$") or #dg ~= 71 then
      return bad("the digest is not sha256: and 64 hex digits")
    end
    dg = dg:lower()
  end
  local tag
  local colon = rest:match("^.*():[^/]*$")
  if colon then rest, tag = rest:sub(1, colon - 1), rest:sub(colon + 1) end
  if tag and not tag:match("^[%w_][%w_.-]*$") or tag and #tag > 128 then
    return bad("the tag " .. string.format("%q", tag) .. " is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
  end
  local registry, repo = M.DEFAULT_REGISTRY, rest
  local first, after = rest:match("^([^/]+)/(.+)$")
  if first and (first:find("[.:]") or first == "localhost" or first:find("%u")) then
    registry, repo = first, after
    if not domain_ok(registry) then return bad("the registry " .. registry .. " is not HOST[:PORT]") end
    if registry == "index.docker.io" then registry = M.DEFAULT_REGISTRY end
  end
  if registry == M.DEFAULT_REGISTRY and not repo:find("/", 1, true) then repo = "library/" .. repo end
  for c in (repo .. "/"):gmatch("([^/]*)/") do
    if not component_ok(c) then
      return bad("the repository " .. repo .. " is not lowercase names joined by /, . _ or -")
    end
  end
  if #registry + 1 + #repo > 255 then return bad("the name is longer than 255 characters") end
  local name = registry .. "/" .. repo
  local ref = dg and (name .. "@" .. dg) or (name .. ":" .. (tag or "latest"))
  return {registry = registry, repository = repo, tag = tag or (not dg and "latest" or nil),
    digest = dg, name = name, ref = ref}
end

-- The normalised reference (parse_ref's ref), or nil, err.
function M.normalize(s)
  local r, err = M.parse_ref(s)
  return r and r.ref, err
end

-- The pod spec of an object of a kind that runs pods, or nil.
local TEMPLATED = {Deployment = true, StatefulSet = true, DaemonSet = true, ReplicaSet = true,
  ReplicationController = true, Job = true}
local function pod_spec(o)
  if type(o) ~= "table" then return nil end
  local spec = type(o.spec) == "table" and o.spec or nil
  if not spec then return nil end
  if o.kind == "Pod" then return spec end
  if o.kind == "CronJob" then
    local jt = type(spec.jobTemplate) == "table" and spec.jobTemplate
    spec = jt and type(jt.spec) == "table" and jt.spec or nil
  elseif not TEMPLATED[o.kind] then
    return nil
  end
  local t = spec and type(spec.template) == "table" and spec.template
  return t and type(t.spec) == "table" and t.spec or nil
end

-- Sorted unique normalised references of the images in objects (a list
-- of decoded Kubernetes objects) and in extra (a list of references, a
-- bundle's extraImages). A reference that does not parse is an error
-- naming the object and the container: nil, err.
function M.refs(objects, extra)
  local seen, out = {}, {}
  local function add(s, where)
    local r, err = M.parse_ref(s)
    if not r then return nil, where .. ": " .. err end
    if not seen[r.ref] then
      if #out >= limits.images then
        return nil, string.format("more than %d images (KD_LIMIT_IMAGES)", limits.images)
      end
      seen[r.ref] = true
      out[#out + 1] = r.ref
    end
    return true
  end
  for _, o in ipairs(objects or {}) do
    local spec = pod_spec(o)
    for _, field in ipairs(spec and {"initContainers", "containers", "ephemeralContainers"} or {}) do
      local list = spec[field]
      for i, c in ipairs(type(list) == "table" and list or {}) do
        -- an empty image is Kubernetes' "set later" for pod templates
        if type(c) == "table" and c.image ~= nil and c.image ~= "" then
          local md = type(o.metadata) == "table" and o.metadata or {}
          local where = string.format("%s %s%s, %s[%d] (%s)", tostring(o.kind),
            md.namespace and (tostring(md.namespace) .. "/") or "", tostring(md.name),
            field, i - 1, tostring(c.name))
          local ok, err = add(c.image, where)
          if not ok then return nil, err end
        end
      end
    end
  end
  for i, s in ipairs(extra or {}) do
    local ok, err = add(s, string.format("extraImages[%d]", i - 1))
    if not ok then return nil, err end
  end
  table.sort(out)
  return out
end

------------------------------------------------------------------------
-- what is there already

-- The references an OCI image layout's index.json names, with their
-- digests: {ref = digest}, or nil, err. Both annotations count, each
-- normalised as a reference ("latest"-only ref names are not references).
function M.layout_refs(dir)
  local text, err = kos.read_file(dir .. "/index.json", limits.image_index_bytes)
  if not text then return nil, "image layout " .. dir .. ": " .. tostring(err) end
  local doc, jerr = json.decode(text, {name = dir .. "/index.json"})
  if type(doc) ~= "table" or type(doc.manifests) ~= "table" then
    return nil, "image layout " .. dir .. ": index.json is not an OCI image index" ..
      (jerr and (": " .. jerr) or "")
  end
  local out = {}
  for _, m in ipairs(doc.manifests) do
    local a = type(m) == "table" and type(m.annotations) == "table" and m.annotations or {}
    for _, key in ipairs{M.ANNOTATION_NAME, M.ANNOTATION_REF} do
      local r = type(a[key]) == "string" and M.parse_ref(a[key])
      if r and type(m.digest) == "string" then out[r.ref] = m.digest end
    end
  end
  return out
end

-- The ctr command line for a socket: {ctr, "-a", socket, "-n", "k8s.io"}.
local function ctr_argv(opts, ...)
  local argv = {opts.ctr or "ctr", "-a", opts.containerd_socket, "-n", M.NAMESPACE}
  for _, a in ipairs{...} do argv[#argv + 1] = a end
  return argv
end
M.ctr_argv = ctr_argv

-- containerd's images in k8s.io: {ref = digest}, or nil, err. `ctr
-- images ls` prints REF TYPE DIGEST SIZE PLATFORMS LABELS. With refs,
-- only those are asked for (by name, and a digest reference's digest
-- under any name), in batches, so a node with many images stays within
-- the output kedge reads of a command (KD_LIMIT_PROC_OUTPUT_BYTES).
M.CTR_BATCH = 100
function M.containerd_refs(opts, refs)
  local out = {}
  local function list(filters)
    local proc = require "kedge.proc"
    local r, err = proc.run{argv = ctr_argv(opts, "images", "ls", table.unpack(filters)),
      timeout = opts.timeout or 60, max_output = limits.proc_output_bytes}
    if not r then return nil, "containerd: " .. tostring(err) end
    if r.status ~= 0 or not r.exited then
      return nil, string.format("containerd at %s: ctr images ls failed (exit %d): %s", opts.containerd_socket,
        r.status, (r.output:gsub("%s+$", ""):sub(-300)))
    end
    if r.truncated then
      return nil, string.format("containerd at %s: ctr images ls printed more than %d bytes (KD_LIMIT_PROC_OUTPUT_BYTES)",
        opts.containerd_socket, limits.proc_output_bytes)
    end
    for line in r.output:gmatch("[^\n]+") do
      local ref, d = line:match("^(%S+)%s+%S+%s+(sha256:%x+)")
      -- CRI also names an image by its config's digest: not a reference
      local p = ref and not ref:match("^sha256:") and M.parse_ref(ref)
      if p then out[p.ref] = d end
    end
    return true
  end
  if not refs then
    local ok, err = list({})
    return ok and out, err
  end
  local filters = {}
  for i, s in ipairs(refs) do
    local p = M.parse_ref(s)
    if p then
      filters[#filters + 1] = "name==" .. p.ref
      if p.digest then filters[#filters + 1] = "target.digest==" .. p.digest end
    end
    if #filters > 0 and (i % M.CTR_BATCH == 0 or i == #refs) then
      local ok, err = list(filters)
      if not ok then return nil, err end
      filters = {}
    end
  end
  return out
end

-- Whether a socket is there to talk to (a missing one: containerd is not
-- running on this node).
local function socket_there(path)
  local st = path and kos.stat(path)
  return st and st.type == "other"
end

-- Which of refs are available: in containerd's k8s.io namespace (through
-- ctr on opts.containerd_socket) or in one of the OCI layouts of
-- opts.layouts. Returns {present = {ref = "containerd" | layout dir},
-- missing = {ref...}, skipped = {why...}}: a source that is not there (no
-- socket, no layout) is skipped and said so in skipped. A reference is
-- present where its normalised name is; a digest reference also where
-- its repository holds that digest under another tag.
function M.present(refs, opts)
  opts = opts or {}
  local sources, skipped = {}, {}
  if opts.containerd_socket then
    if socket_there(opts.containerd_socket) then
      local have, err = M.containerd_refs(opts, refs)
      if have then sources[#sources + 1] = {where = "containerd", refs = have}
      else skipped[#skipped + 1] = err end
    else
      skipped[#skipped + 1] = "containerd: no socket at " .. opts.containerd_socket
    end
  end
  for _, dir in ipairs(opts.layouts or {}) do
    local have, err = M.layout_refs(dir)
    if have then sources[#sources + 1] = {where = dir, refs = have}
    else skipped[#skipped + 1] = err end
  end
  -- a digest reference is there when its name holds that digest under
  -- any tag (name@digest is what kubelet asks containerd for)
  for _, src in ipairs(sources) do
    src.by_digest = {}
    for ref, d in pairs(src.refs) do
      local p = M.parse_ref(ref)
      src.by_digest[p.name .. "@" .. d] = true
    end
  end
  local out = {present = {}, missing = {}, skipped = skipped}
  for _, s in ipairs(refs) do
    local r = M.parse_ref(s)
    for _, src in ipairs(sources) do
      if r and (src.refs[r.ref] or (r.digest and src.by_digest[r.name .. "@" .. r.digest])) then
        out.present[s] = src.where
        break
      end
    end
    if not out.present[s] then out.missing[#out.missing + 1] = s end
  end
  return out
end

------------------------------------------------------------------------
-- pulling and installing (their own files: most passes need neither)

-- images.pull(refs, layout_dir, opts): see kedge.images.pull (and its
-- progress_lines(out) for opts.progress).
function M.pull(refs, dir, opts) return require("kedge.images.pull").pull(refs, dir, opts) end

-- images.install(layout_dir, opts): see kedge.images.install.
function M.install(dir, opts) return require("kedge.images.install").install(dir, opts) end

return M
