-- kedge.images.layout: an OCI image layout on disk (the image-spec's
-- image-layout.md): the oci-layout marker, index.json, and every blob
-- once under blobs/sha256/HEX. Blobs are written whole or not at all
-- (temp file, fsync, rename); index.json is replaced atomically after the
-- blobs it names are in, so a layout read at any moment names only what
-- it holds (an index's manifests for platforms not pulled excepted: an
-- index is kept whole, as registries serve it).
local core = require "kedge.core"
local json = require "kedge.json"
local kos = require "kedge.os"
local limits = require "kedge.limits"

local M = {}

M.LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}'
M.INDEX_TYPE = "application/vnd.oci.image.index.v1+json"

local Layout = {}
Layout.__index = Layout

local function hex_of(d)
  local hex = type(d) == "string" and d:match("^sha256:(%x+)$")
  return hex and #hex == 64 and hex:lower() or nil
end
M.hex_of = hex_of

-- Opens dir as a layout, making it (and its marker) when create is set.
-- Returns the layout or nil, err.
function M.open(dir, create)
  local st = kos.stat(dir .. "/oci-layout")
  if not st then
    if not create then return nil, dir .. " is not an OCI image layout (no oci-layout file)" end
    local ok, err = kos.mkdir(dir .. "/blobs/sha256", 0755)
    if ok then ok, err = kos.write_atomic(dir .. "/oci-layout", M.LAYOUT_FILE, 0644) end
    if not ok then return nil, "image layout " .. dir .. ": " .. tostring(err) end
  else
    local ok, err = kos.mkdir(dir .. "/blobs/sha256", 0755)
    if not ok then return nil, "image layout " .. dir .. ": " .. tostring(err) end
  end
  return setmetatable({dir = dir}, Layout)
end

function Layout:path(d) return self.dir .. "/blobs/sha256/" .. hex_of(d) end

-- Whether the blob is there with the size the descriptor says (a file
-- is only ever there whole and checked: see the head of this file).
function Layout:has(d, size)
  local st = hex_of(d) and kos.stat(self:path(d))
  return st ~= nil and st.type == "file" and (size == nil or st.size == size)
end

-- A small blob kedge holds in memory (a manifest), written atomically.
function Layout:put(d, bytes)
  if self:has(d, #bytes) then return true end
  local ok, err = kos.write_atomic(self:path(d), bytes, 0644)
  if not ok then return nil, "image layout " .. self.dir .. ": " .. tostring(err) end
  return true
end

-- A manifest or index blob, decoded: doc, bytes or nil, err.
function Layout:read_json(d)
  if not hex_of(d) then return nil, string.format("%q is not a sha256 digest", tostring(d)) end
  local text, err = kos.read_file(self:path(d), limits.image_manifest_bytes)
  if not text then return nil, "image layout " .. self.dir .. ": " .. tostring(err) end
  local doc = json.decode(text, {name = self:path(d)})
  if type(doc) ~= "table" then return nil, "image layout " .. self.dir .. ": " .. d .. " is not JSON" end
  return doc, text
end

-- index.json (an empty index when there is none yet), or nil, err.
function Layout:index()
  local path = self.dir .. "/index.json"
  if not kos.stat(path) then return {schemaVersion = 2, mediaType = M.INDEX_TYPE, manifests = {}} end
  local text, err = kos.read_file(path, limits.image_index_bytes)
  if not text then return nil, "image layout " .. self.dir .. ": " .. tostring(err) end
  local doc, jerr = json.decode(text, {name = path})
  if type(doc) ~= "table" or type(doc.manifests) ~= "table" or #doc.manifests > limits.images then
    return nil, string.format("image layout %s: index.json is not an OCI image index of at most %d manifests%s",
      self.dir, limits.images, jerr and (": " .. jerr) or "")
  end
  return doc
end

function Layout:write_index(doc)
  doc.manifests = core.list(doc.manifests)
  local text, err = json.encode(doc, {indent = 2, sort_keys = true})
  if text then text = text .. "\n" end
  local ok, werr = text and kos.write_atomic(self.dir .. "/index.json", text, 0644)
  if not ok then return nil, "image layout " .. self.dir .. ": index.json: " .. tostring(err or werr) end
  return true
end

-- Removes what an interrupted writer left (HEX.partial files).
function Layout:clean()
  local dir = self.dir .. "/blobs/sha256"
  for _, name in ipairs(kos.read_dir(dir) or {}) do
    if name:match("^%x+%.partial$") then os.remove(dir .. "/" .. name) end
  end
end

-- Every blob the index reaches that the layout holds: a list of
-- {digest =, size =} (index.json's entries first, each blob once), or
-- nil, err. Manifests of an index that are not in the layout (platforms
-- not pulled) are left out.
function Layout:reachable()
  local idx, err = self:index()
  if not idx then return nil, err end
  local out, seen = {}, {}
  local function walk(desc, depth)
    local d = type(desc) == "table" and desc.digest
    if not hex_of(d) or seen[d] then return true end
    if depth > 0 and not self:has(d) then return true end
    if depth == 0 and not self:has(d) then
      return nil, "image layout " .. self.dir .. ": index.json names " .. d .. ", which is not in blobs/"
    end
    seen[d] = true
    out[#out + 1] = {digest = d, size = kos.stat(self:path(d)).size}
    local mt = desc.mediaType or ""
    if mt:find("index") or mt:find("manifest") then
      local doc, rerr = self:read_json(d)
      if not doc then return nil, rerr end
      if depth > 4 then return true end
      for _, list in ipairs{doc.manifests or {}, doc.config and {doc.config} or {}, doc.layers or {}} do
        if #list > limits.image_index_entries + limits.image_layers then
          return nil, "image layout " .. self.dir .. ": " .. d .. " lists too many descriptors"
        end
        for _, c in ipairs(list) do
          local ok, werr = walk(c, depth + 1)
          if not ok then return nil, werr end
        end
      end
    end
    return true
  end
  for _, m in ipairs(idx.manifests) do
    local ok, werr = walk(m, 0)
    if not ok then return nil, werr end
  end
  return out, idx
end

return M
