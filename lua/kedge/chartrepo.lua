-- kedge.chartrepo: Helm HTTP chart repositories: index.yaml, the version a
-- range picks (Helm's rules), the archive from the entry's urls, its
-- digest checked. The HTTP, credentials and transport rules are
-- kedge.oci's client's.
--
--   local tgz, entry = chartrepo.pull(client, "https://charts.example.org", "web", "1.2.x")
local digest = require "kedge.digest"
local semver = require "kedge.semver"
local yaml = require "kedge.yaml"

local M = {}

-- index.yaml files of large repositories run to tens of MiB.
M.MAX_INDEX_BYTES = 64 << 20

local function base(repo) return (repo:gsub("/+$", "")) .. "/" end

-- The repository's index (decoded index.yaml), or nil, err, kind.
function M.index(client, repo)
  local url = base(repo) .. "index.yaml"
  local r, err, kind = client:get(url, {max_body = M.MAX_INDEX_BYTES, what = url})
  if not r then return nil, err, kind end
  if r.status ~= 200 then return nil, string.format("%s: the server answered %d", url, r.status) end
  local doc, yerr = yaml.decode(r.body, {name = url})
  if type(doc) ~= "table" or type(doc.entries) ~= "table" then
    return nil, url .. ": not a chart repository index" .. (yerr and (": " .. yerr) or " (no entries)")
  end
  return doc
end

-- The entry a version range picks, as Helm's IndexFile.Get does: a version
-- written exactly as an entry's wins, else the highest that satisfies the
-- range (no range: the highest without a pre-release).
function M.pick(index, repo, name, range)
  local list = index.entries[name]
  if type(list) ~= "table" or #list == 0 then
    return nil, string.format("chart %s is not in %s", name, repo)
  end
  range = range or ""
  local vs, by = {}, {}
  for _, e in ipairs(list) do
    if type(e) == "table" and type(e.version) == "string" then
      if e.version == range then return e end
      vs[#vs + 1] = e.version
      by[e.version] = by[e.version] or e
    end
  end
  local v, err = semver.max_satisfying(vs, range ~= "" and range or "*")
  if err then return nil, string.format("chart %s: version %q: %s", name, range, err) end
  if not v then
    return nil, string.format("chart %s in %s has no version matching %s (it has %s)", name, repo,
      range, table.concat(vs, ", ", 1, math.min(#vs, 20)))
  end
  return by[v]
end

-- Downloads the entry's archive (its urls in order, relative ones from
-- the repository's URL) and checks its digest. Returns the bytes and
-- their sha256 (hex), or nil, err, kind.
function M.download(client, repo, entry, max)
  local urls = type(entry.urls) == "table" and entry.urls or {}
  if #urls == 0 then return nil, string.format("chart %s %s in %s has no urls", entry.name, entry.version, repo) end
  for _, u in ipairs(urls) do
    if type(u) ~= "string" then
      return nil, string.format("chart %s %s in %s: a url in the index is a %s, not a string", entry.name,
        entry.version, repo, type(u))
    end
  end
  if entry.digest ~= nil and type(entry.digest) ~= "string" then
    -- a YAML number where a hex string belongs: the text is lost, so is the check
    return nil, string.format("chart %s %s in %s: the index's digest is not a sha256 hex string (quote it)",
      entry.name, entry.version, repo)
  end
  local last, lkind
  for _, u in ipairs(urls) do
    local url = require("kedge.oci").resolve_url(base(repo), u)
    local r, err, kind = client:get(url, {max_body = max, what = url})
    if r and r.status == 200 then
      local got = digest.sha256(r.body)
      local want = type(entry.digest) == "string" and entry.digest:gsub("^sha256:", ""):lower()
      if want and want ~= "" and want ~= got then
        return nil, string.format("%s: the archive's sha256 is %s, the index says %s", url, got, want)
      end
      return r.body, got
    end
    last = err or string.format("%s: the server answered %d", url, r.status)
    lkind = kind
  end
  return nil, last, lkind
end

-- The chart's archive: index, pick, download. Returns bytes, sha256 hex,
-- the entry, or nil, err, kind ("unreachable": the network failed).
function M.pull(client, repo, name, range, max)
  local index, err, kind = M.index(client, repo)
  if not index then return nil, err, kind end
  local e, perr = M.pick(index, repo, name, range)
  if not e then return nil, perr end
  local tgz, hex, dkind = M.download(client, repo, e, max)
  if not tgz then return nil, hex, dkind end
  return tgz, hex, e
end

return M
