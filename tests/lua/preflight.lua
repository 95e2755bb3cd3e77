-- kedge.preflight without containerd: the list of images a site's
-- bundles need (merged across bundles, digests from pinned references,
-- extraImages), a pack's OCI layout as the only store, the refusal's text,
-- the socket default, and nothing at all for a site with require off.
-- With containerd and the pass: tests/e2e/t0980-preflight.sh.
local t = dofile("tests/tap.lua")
local preflight = require "kedge.preflight"
local json = require "kedge.json"

local tmp = os.tmpname()
os.remove(tmp)
os.execute("mkdir -p " .. tmp .. "/pack/images")

local D = "sha256:" .. string.rep("ab", 32)
local function deploy(name, images)
  local cs = {}
  for i, im in ipairs(images) do cs[i] = {name = "c" .. i, image = im} end
  return {apiVersion = "apps/v1", kind = "Deployment", metadata = {name = name},
    spec = {template = {spec = {containers = cs}}}}
end
local bundles = {{name = "web", extraImages = {"ghcr.io/x/side:2"}}, {name = "db"}}
local objects = {web = {deploy("web", {"nginx:1.25", "x/init@" .. D})},
  db = {deploy("db", {"docker.io/library/nginx:1.25", "postgres:16"})}}

local list = assert(preflight.needed(bundles, objects))
local refs = {}
for i, e in ipairs(list) do refs[i] = e.ref end
t.same(refs, {"docker.io/library/nginx:1.25", "docker.io/library/postgres:16", "docker.io/x/init@" .. D,
  "ghcr.io/x/side:2"}, "every image once, normalised and sorted, extraImages too")
t.same(list[1].bundles, {"web", "db"}, "an image two bundles use names both")
t.is(list[3].digest, D, "a pinned reference carries its digest")
t.is(list[1].digest, nil, "a tag reference none")

local bad, err, bd = preflight.needed({{name = "web"}}, {web = {deploy("web", {"Not A Ref"})}})
t.is(bad, nil, "a reference that does not parse: nil")
t.like(err, "^bundle web: Deployment web, containers%[0%] %(c1%): ", "naming the bundle, object and container")
t.is(bd and bd.name, "web", "and giving the bundle")

t.is(preflight.check({images = {require = "off"}}, bundles, objects, {}), false, "require off: not looked at")
t.is(preflight.check({}, bundles, objects, {}), false, "nor without the option")
t.is(preflight.socket("/x.sock"), "/x.sock", "a socket given is used")
t.ok(preflight.socket() == preflight.K3S_SOCKET or preflight.socket() == preflight.SOCKET,
  "else k3s's or the system's")

-- the pack holds two of the four; containerd is not there
local f = assert(io.open(tmp .. "/pack/images/index.json", "wb"))
f:write(json.encode({schemaVersion = 2, manifests = {
  {mediaType = "application/vnd.oci.image.manifest.v1+json", digest = "sha256:" .. string.rep("01", 32), size = 1,
    annotations = {["io.containerd.image.name"] = "docker.io/library/nginx:1.25"}},
  {mediaType = "application/vnd.oci.image.manifest.v1+json", digest = D, size = 1,
    annotations = {["org.opencontainers.image.ref.name"] = "docker.io/x/init:3"}}}}))
f:close()
local site = {images = {require = "present"}}
local res = assert(preflight.check(site, bundles, objects, {containerd_socket = tmp .. "/none.sock",
  pack = tmp .. "/pack"}))
t.same({res.needed, res.present, #res.missing}, {4, 2, 2}, "two present in the pack, two missing")
t.is(res.images[3].where, tmp .. "/pack/images", "a digest reference is present under another tag of its name")
t.same({res.missing[1].ref, res.missing[2].ref}, {"docker.io/library/postgres:16", "ghcr.io/x/side:2"},
  "the missing ones by reference")
t.same(res.unavailable, {"containerd: no socket at " .. tmp .. "/none.sock"}, "containerd not there is said")
local msg = preflight.refusal(res)
t.like(msg, "^2 of the 4 images the site needs are not on this node; nothing was applied", "the refusal's first line")
t.ok(msg:find("  docker.io/library/postgres:16 (no digest pinned) (bundle db)", 1, true), "a line per missing image")
t.ok(msg:find("(not looked at: containerd: no socket at", 1, true), "and what was not looked at")
t.like(msg, "set images: {require: off}", "and the fix")
local doc = json.decode(json.encode(res))
t.is(#doc.missing, 2, "the result encodes as JSON for the report")

res = assert(preflight.check(site, {}, {}, {containerd_socket = tmp .. "/none.sock"}))
t.same({res.needed, #res.missing}, {0, 0}, "no bundles: nothing needed, nothing asked")

os.execute("rm -rf " .. tmp)
t.done()
