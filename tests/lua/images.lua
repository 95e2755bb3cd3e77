-- kedge.images without a network or containerd: references as containerd
-- normalises them, the images of rendered objects, an OCI layout's
-- index.json, the streaming sha256 and the ustar writer. The registry,
-- skopeo, umoci and containerd parts are tests/e2e/t0965-images.sh's.
local t = dofile("tests/tap.lua")
local images = require "kedge.images"
local digest = require "kedge.digest"
local kos = require "kedge.os"

local D = "sha256:" .. string.rep("ab", 32)

-- references
local function norm(s) return (images.normalize(s)) end
t.is(norm("nginx"), "docker.io/library/nginx:latest", "a bare name is docker.io/library/NAME:latest")
t.is(norm("nginx:1.27"), "docker.io/library/nginx:1.27", "a tag stays")
t.is(norm("bitnami/redis:7"), "docker.io/bitnami/redis:7", "a two-part name is on docker.io, not under library/")
t.is(norm("index.docker.io/library/busybox"), "docker.io/library/busybox:latest", "index.docker.io is docker.io")
t.is(norm("ghcr.io/org/team/app:v1.2"), "ghcr.io/org/team/app:v1.2", "another registry keeps its path")
t.is(norm("localhost/app"), "localhost/app:latest", "localhost is a registry")
t.is(norm("127.0.0.1:5000/x/y:dev"), "127.0.0.1:5000/x/y:dev", "a registry with a port, and a tag after it")
t.is(norm("reg:5000/app"), "reg:5000/app:latest", "a first part with a port is a registry")
t.is(norm("nginx@" .. D), "docker.io/library/nginx@" .. D, "a digest stays, no :latest")
t.is(norm("nginx:1.27@" .. D), "docker.io/library/nginx@" .. D, "with a digest the tag is dropped, as containerd stores it")
local r = assert(images.parse_ref("quay.io/prometheus/node-exporter:v1.8.2"))
t.same({r.registry, r.repository, r.tag, r.digest, r.name},
  {"quay.io", "prometheus/node-exporter", "v1.8.2", nil, "quay.io/prometheus/node-exporter"}, "parse_ref's fields")
r = assert(images.parse_ref("a/b:t@" .. D))
t.is(r.tag .. " " .. r.digest, "t " .. D, "parse_ref keeps the tag it was given next to the digest")
for _, bad in ipairs{"", "Nginx", "nginx:", "nginx@sha256:abc", "nginx@md5:" .. string.rep("a", 32),
  "a//b", "-a/b", "nginx:-x", "reg:99999/x", "a b"} do
  local ok, err = images.parse_ref(bad)
  t.ok(not ok and err:find("is not an image reference", 1, true), "refused: " .. string.format("%q", bad))
end
t.like(select(2, images.parse_ref("nginx@sha256:abc")), "sha256: and 64 hex digits", "a short digest says what a digest is")
t.ok(not images.parse_ref(42), "a number is not a reference")

-- the images of rendered objects
local function pod(containers, init, eph)
  return {containers = containers, initContainers = init, ephemeralContainers = eph}
end
local objs = {
  {apiVersion = "v1", kind = "Pod", metadata = {name = "p"},
    spec = pod({{name = "a", image = "nginx"}}, {{name = "i", image = "busybox:1.36"}}, {{name = "e", image = "debug"}})},
  {apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "d", namespace = "web"},
    spec = {template = {spec = pod({{name = "a", image = "docker.io/library/nginx:latest"}, {name = "b", image = "ghcr.io/x/y:1"}})}}},
  {kind = "StatefulSet", spec = {template = {spec = pod({{name = "s", image = "s:1"}})}}},
  {kind = "DaemonSet", spec = {template = {spec = pod({{name = "ds", image = "ds:1"}})}}},
  {kind = "ReplicaSet", spec = {template = {spec = pod({{name = "rs", image = "rs:1"}})}}},
  {kind = "ReplicationController", spec = {template = {spec = pod({{name = "rc", image = "rc:1"}})}}},
  {kind = "Job", spec = {template = {spec = pod({{name = "j", image = "job:1"}})}}},
  {kind = "CronJob", spec = {jobTemplate = {spec = {template = {spec = pod({{name = "c", image = "cron:1"}})}}}}},
  {kind = "ConfigMap", data = {image = "not-an-image"}},
  {kind = "Service", spec = {template = {spec = pod({{name = "x", image = "ignored"}})}}},
  {kind = "Deployment", spec = "broken"},
  {kind = "Deployment", spec = {template = {spec = pod({{name = "later", image = ""}, {name = "none"}})}}},
}
local refs = assert(images.refs(objs, {"registry.k8s.io/pause:3.9", "nginx"}))
t.same(refs, {"docker.io/library/busybox:1.36", "docker.io/library/cron:1", "docker.io/library/debug:latest",
  "docker.io/library/ds:1", "docker.io/library/job:1", "docker.io/library/nginx:latest",
  "docker.io/library/rc:1", "docker.io/library/rs:1", "docker.io/library/s:1", "ghcr.io/x/y:1",
  "registry.k8s.io/pause:3.9"}, "refs: every pod-running kind and extraImages, normalised, sorted, once each (no image, or an empty one, is none)")
local _, err = images.refs({{kind = "Deployment", metadata = {name = "d", namespace = "web"},
  spec = {template = {spec = pod({{name = "ok", image = "a"}, {name = "bad", image = "UPPER"}})}}}})
t.like(err, "^Deployment web/d, containers%[1%] %(bad%): \"UPPER\" is not an image reference",
  "a reference that does not parse names the object and the container")
t.like(select(2, images.refs({}, {"ok", 7})), "^extraImages%[1%]: an image reference must be a string",
  "a non-string in extra is named by its index")
t.same(assert(images.refs(nil, nil)), {}, "no objects, no images")

-- an OCI layout's index.json
local dir = (os.getenv("TMPDIR") or "/tmp") .. "/kedge-images-" .. tostring(kos.monotonic()):gsub("%.", "")
assert(kos.mkdir(dir))
assert(kos.write_atomic(dir .. "/index.json", [[{"schemaVersion":2,"manifests":[
{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:]] .. string.rep("1", 64) .. [[","size":1,
 "annotations":{"org.opencontainers.image.ref.name":"docker.io/library/nginx:1.27"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"]] .. D .. [[","size":1,
 "annotations":{"io.containerd.image.name":"ghcr.io/x/y:1","org.opencontainers.image.ref.name":"1"}}]}]]))
local lr = assert(images.layout_refs(dir))
t.is(lr["docker.io/library/nginx:1.27"], "sha256:" .. string.rep("1", 64), "layout_refs reads ref.name")
t.is(lr["ghcr.io/x/y:1"], D, "...and io.containerd.image.name")
local p = images.present({"nginx:1.27", "ghcr.io/x/y@" .. D, "ghcr.io/x/y:2", "busybox"},
  {layouts = {dir, dir .. "/none"}, containerd_socket = dir .. "/no.sock"})
t.same(p.present, {["nginx:1.27"] = dir, ["ghcr.io/x/y@" .. D] = dir}, "present: by name, and a digest under another tag")
t.same(p.missing, {"ghcr.io/x/y:2", "busybox"}, "missing: the rest, in the order asked")
t.is(#p.skipped, 2, "a socket and a layout that are not there are skipped...")
t.like(p.skipped[1], "^containerd: no socket at .*/no%.sock$", "...and said so")
assert(kos.write_atomic(dir .. "/index.json", '{"manifests": 3}'))
t.like(select(2, images.layout_refs(dir)), "index%.json is not an OCI image index", "a broken index.json is named")
t.like(images.present({"nginx"}, {layouts = {dir}}).skipped[1], "is not an OCI image index",
  "...and present skips that layout, saying why")
os.remove(dir .. "/index.json")
os.remove(dir)

-- a bundle's extraImages, checked by the loader
local site = require "kedge.site"
local function load_with(extra)
  local root = dir .. "-repo"
  for path, text in pairs{["sites/a.yaml"] = "name: a\n",
    ["bundles/one/bundle.yaml"] = "chart: charts/one\n" .. extra,
    ["charts/one/Chart.yaml"] = "apiVersion: v2\nname: one\nversion: 1.0.0\n"} do
    assert(kos.mkdir((root .. "/" .. path):match("^(.*)/")))
    assert(kos.write_atomic(root .. "/" .. path, text))
  end
  return site.load(assert(site.dir_tree(root)))
end
local repo = assert(load_with("extraImages: [nginx, 'ghcr.io/x/y@" .. D .. "']\n"))
t.same(repo.bundles.one.extraImages, {"nginx", "ghcr.io/x/y@" .. D}, "extraImages: a list of references is kept")
t.same(assert(load_with("")).bundles.one.extraImages, {}, "no extraImages is an empty list")
local _, lerr = load_with("extraImages:\n  - nginx\n  - Bad:ref\n")
t.like(lerr, "bundles/one/bundle%.yaml:4:5: extraImages lists image references: \"Bad:ref\" is not an image reference",
  "a reference that does not parse is named with file:line")
_, lerr = load_with("extraImages: nginx\n")
t.like(lerr, "bundles/one/bundle%.yaml:2:%d+: extraImages must be a list", "a string is not a list")
for _, f in ipairs{"sites/a.yaml", "sites", "bundles/one/bundle.yaml", "bundles/one", "bundles",
  "charts/one/Chart.yaml", "charts/one", "charts", ""} do os.remove(dir .. "-repo/" .. f) end

-- platforms
local pull = require "kedge.images.pull"
t.same(assert(pull.parse_platform("linux/arm/v7")), {os = "linux", architecture = "arm", variant = "v7"}, "os/arch/variant")
t.same(assert(pull.parse_platform("linux/amd64")), {os = "linux", architecture = "amd64"}, "os/arch")
t.like(select(2, pull.parse_platform("amd64")), "is not OS/ARCH%[/VARIANT%]", "a bare arch is refused, saying the form")
t.like(pull.host_platform(), "^linux/%w+$", "the host's platform: " .. pull.host_platform())

-- Docker Hub's credentials, as auth files name them, are those of its API host
local oci = require "kedge.oci"
local hub = assert(oci.client{auths = {file = "x", auths = {["index.docker.io"] = {user = "u", basic = "dTpw"}}}})
t.is((hub:creds("registry-1.docker.io") or {}).user, "u", "index.docker.io's credentials go to registry-1.docker.io")
t.is(hub:creds("ghcr.io"), nil, "...and to no other host")

-- the ustar writer: a header a tar reader accepts (its checksum is the
-- sum of its bytes with the checksum field as spaces)
local tar = require "kedge.tar"
local hd = tar.header("blobs/sha256/" .. string.rep("a", 64), 1234, "0")
t.is(#hd, 512, "a header is one block")
t.is(hd:sub(125, 136), string.format("%011o", 1234) .. "\0", "the size in octal")
t.is(hd:sub(258, 265), "ustar\0" .. "00", "the ustar magic and version")
local sum = 0
for i = 1, 512 do sum = sum + ((i >= 149 and i <= 156) and 32 or hd:byte(i)) end
t.is(tonumber(hd:sub(149, 154), 8), sum, "the checksum")
local long = string.rep("d", 120) .. "/" .. string.rep("n", 90)
local lh = assert(tar.header(long, 0, "0"))
t.is(lh:sub(1, 90), string.rep("n", 90), "a name past 100 bytes: its last part in the name field")
t.is(lh:sub(346, 465), string.rep("d", 120), "...the folders before it in the prefix field")
local nh, nerr = tar.header(string.rep("n", 101), 0, "0")
t.is(nh, nil, "a single part past 100 bytes has no header")
t.like(nerr, "too long for a tar entry", "...and says why")
local tpath = dir .. ".tar"
local tf = assert(io.open(tpath, "wb"))
local w = tar.writer(tf)
assert(w:dir("d/"))
assert(w:data("d/x", "hello"))
assert(w:finish())
tf:close()
t.is(w.bytes, 512 * 5, "a folder, a file of one block and the two end blocks")
t.ok(not w:file("d/y", tpath .. ".missing", 1), "a file that is not there is an error")
os.remove(tpath)

-- the streaming sha256 is the one-shot sha256
local h = digest.sha256_new()
h:update("a"):update("b"):update("c")
t.is(h:hex(), digest.sha256("abc"), "sha256_new: the same digest in pieces")
t.ok(not pcall(h.update, h, "x"), "a finished hash refuses more bytes")
t.is(digest.sha256_new():hex(), digest.sha256(""), "nothing hashed is the empty digest")

t.done()
