-- kedge.preflight: the image preflight, the pass's images step (it runs
-- right after the budget, before anything is applied). A site that sets
-- `images: {require: present}` needs every image its selected bundles'
-- rendered objects name, and their extraImages, to be on the node first:
-- in containerd's k8s.io image store, or in the pack the site was
-- installed from (its images/ OCI layout). One missing refuses the whole
-- pass, as the budget does: nothing applied, an exit code of its own
-- (pass.EXIT.images), the report's `images` naming each missing image by
-- reference and digest. With `require: off` (the default) it does nothing.
--
--   local preflight = require "kedge.preflight"
--   local res, err = preflight.check(site, bundles, objects, {containerd_socket = nil,
--     pack = "/media/usb"})
--   -- res = false (off), or {require=, sources=, needed=, present=, images=, missing=}
local kedge = require "kedge"
local kos = require "kedge.os"

local M = {}

-- kedge.images, loaded when a site needs it (a pass with require: off never does)
local function images() return require "kedge.images" end

-- Where containerd listens: k3s's own when it is there, else the system's.
M.SOCKET = "/run/containerd/containerd.sock"
M.K3S_SOCKET = "/run/k3s/containerd/containerd.sock"

function M.socket(given)
  if given then return given end
  if kos.stat(M.K3S_SOCKET) then return M.K3S_SOCKET end
  return M.SOCKET
end

-- The digest a reference pins (NAME@sha256:...), or nil.
local function digest_of(ref)
  return ref:match("@(sha256:%x+)$")
end

-- Every image the bundles need, once, sorted by reference: {{ref=,
-- digest=, bundles={names}}}, or nil, err, bundle (a reference that does
-- not parse, named by bundle, object and container). objects: bundle
-- name -> rendered objects.
function M.needed(bundles, objects)
  local by, list = {}, {}
  for _, bd in ipairs(bundles) do
    local refs, err = images().refs(objects[bd.name] or {}, bd.extraImages)
    if not refs then return nil, "bundle " .. bd.name .. ": " .. err, bd end
    for _, ref in ipairs(refs) do
      local e = by[ref]
      if not e then
        e = {ref = ref, digest = digest_of(ref), bundles = kedge.list({})}
        by[ref] = e
        list[#list + 1] = e
      end
      if e.bundles[#e.bundles] ~= bd.name then e.bundles[#e.bundles + 1] = bd.name end
    end
  end
  table.sort(list, function(a, b) return a.ref < b.ref end)
  return list
end

-- The preflight of a site over its selected bundles. opts:
-- containerd_socket (default M.socket()), pack (the pack's folder).
-- → false when the site does not require it; else {require = "present",
-- sources = {containerd=, pack=}, needed = n, present = n, images =
-- {{ref, digest, bundles, where}}, missing = {{ref, digest, bundles}},
-- unavailable = {why a source could not be asked}}; or nil, err for a
-- reference that does not parse. A store that is not there (no socket,
-- no layout) holds nothing: what only it could hold is missing.
function M.check(site, bundles, objects, opts)
  if not (site.images and site.images.require == "present") then return false end
  opts = opts or {}
  local list, nerr = M.needed(bundles, objects)
  if not list then return nil, nerr end
  local sources = {containerd = M.socket(opts.containerd_socket),
    pack = opts.pack and (opts.pack .. "/images") or nil}
  local res = {require = "present", sources = sources, needed = #list, present = 0,
    images = kedge.list({}), missing = kedge.list({}), unavailable = kedge.list({})}
  if #list == 0 then return res end
  local refs = {}
  for i, e in ipairs(list) do refs[i] = e.ref end
  local found = images().present(refs, {containerd_socket = sources.containerd,
    layouts = {sources.pack}})
  for _, why in ipairs(found.skipped or {}) do res.unavailable[#res.unavailable + 1] = why end
  for _, e in ipairs(list) do
    local where = found.present and found.present[e.ref]
    e.where = where
    res.images[#res.images + 1] = e
    if where then
      res.present = res.present + 1
    else
      res.missing[#res.missing + 1] = {ref = e.ref, digest = e.digest, bundles = e.bundles}
    end
  end
  return res
end

-- Why a pass is refused, for the failure message and kedge plan: every
-- missing image on a line, with where it was looked for and the fix.
function M.refusal(res)
  local lines = {string.format("%d of the %d image%s the site needs %s not on this node; nothing was applied " ..
    "(looked in containerd's k8s.io namespace at %s%s):", #res.missing, res.needed,
    res.needed == 1 and "" or "s", #res.missing == 1 and "is" or "are", res.sources.containerd,
    res.sources.pack and (" and the pack's " .. res.sources.pack) or ", no pack given")}
  for _, m in ipairs(res.missing) do
    lines[#lines + 1] = string.format("  %s%s (bundle%s %s)", m.ref, m.digest and "" or " (no digest pinned)",
      #m.bundles == 1 and "" or "s", table.concat(m.bundles, ", "))
  end
  for _, why in ipairs(res.unavailable) do lines[#lines + 1] = "  (not looked at: " .. why .. ")" end
  lines[#lines + 1] = "bring them in (ctr -n k8s.io images import, or a pack with them: --pack DIR), " ..
    "or set images: {require: off} in the site's file"
  return table.concat(lines, "\n")
end

-- One line for the progress: how many images, all there.
function M.summary(res)
  return string.format("%d image%s present", res.present, res.present == 1 and "" or "s")
end

return M
