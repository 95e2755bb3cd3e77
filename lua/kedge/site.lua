-- kedge.site: the config repo's format -- repo settings, sites and bundles --
-- loaded, validated, selected per site, and rendered.
--
--   local site = require "kedge.site"
--   local tree = assert(site.dir_tree("/srv/sites"))   -- or a kedge.git repo
--   local repo, err, problems = site.load(tree)
--   local bundles = assert(site.select(repo, "berlin-01"))
--   for _, b in ipairs(bundles) do
--     local r = assert(site.render(repo, repo.sites["berlin-01"], b))
--     -- r.objects: what to apply, in install order
--   end
--
-- Every problem in the repo is reported, not only the first, each as
-- "file:line:col: what is wrong (and how to fix it)". See README.md,
-- "Sites, bundles and the pass", for the format.
local yaml = require "kedge.yaml"
local semver = require "kedge.semver"
local kedge = require "kedge"
local errors = require "kedge.errors"
local chart = require "kedge.chart"
local windows = require "kedge.windows"

local M = {}

-- What `kedge render` assumes when nothing says otherwise (without its "v").
M.DEFAULT_KUBE_VERSION = chart.DEFAULT_KUBE_VERSION:gsub("^v", "")

M.SMOKE_TYPES = {"condition", "exec", "helm-test", "http", "lua", "tcp"}
M.OPERATORS = {"DoesNotExist", "Exists", "In", "NotIn"}

local DIMENSIONS = {"cpu", "memory", "ephemeral-storage", "storage", "pods", "nodes"}

local KEYS = {
  settings = {"kubeVersion", "policy", "report", "recipients", "windows"},
  site = {"name", "labels", "capacity", "reserve", "policy", "recipe", "values",
          "exec", "kubeVersion", "report", "recipients", "windows"},
  bundle = {"chart", "version", "release", "namespace", "values", "targets", "targetValues",
            "dependsOn", "smoke", "secrets", "windows", "rollout", "extraImages"},
  remote_chart = {"repo", "name", "version"},
  rollout = {"waves", "health"},
  wave = {"name", "selector", "percent", "soak"},
  soak = {"duration", "smoke"},
  health = {"minSuccess", "maxFailures", "whenUnknown"},
  selector = {"matchLabels", "matchExpressions"},
  target_values = {"matchLabels", "matchExpressions", "values"},
  expression = {"key", "operator", "values"},
  policy = {"missing-requests"},
  missing_default = {"cpu", "memory", "ephemeral-storage"},
  webhook = {"webhook", "token-file", "ca-file", "timeout"},
  ["git-branch"] = {"git-branch", "repo", "token-file", "ca-file", "username", "password-file",
                    "ssh-key", "known-hosts", "attempts"},
  dir = {"dir"},
}
-- The release policy's keys of a site and a bundle (kedge.gates.pause,
-- kedge.gates.downgrade): one line each, so the gates' keys merge apart.
for _, k in ipairs{"allowDowngrade", "paused", "reason"} do
  KEYS.site[#KEYS.site + 1], KEYS.bundle[#KEYS.bundle + 1] = k, k
end
-- The image preflight's key of a site (kedge.preflight).
KEYS.site[#KEYS.site + 1], KEYS.images, M.IMAGE_REQUIRE = "images", {"require"}, {"off", "present"}

------------------------------------------------------------------------
-- small helpers

local list_mt = getmetatable(kedge.list({}))

local function is_list(v)
  if type(v) ~= "table" or kedge.is_null(v) then return false end
  if getmetatable(v) == list_mt then return true end
  if v[1] == nil then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

local function is_map(v)
  return type(v) == "table" and not kedge.is_null(v) and not is_list(v)
end

local function kind_of(v)
  if v == nil or kedge.is_null(v) then return "null" end
  if type(v) == "table" then return is_list(v) and "list" or "map" end
  if math.type(v) == "integer" then return "integer" end
  if type(v) == "number" then return "number" end
  return type(v)
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local function deep_copy(v)
  if type(v) ~= "table" or kedge.is_null(v) then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  if getmetatable(v) == list_mt then kedge.list(c) end
  return c
end
M.copy = deep_copy

local distance = kedge.edit_distance

-- The candidate closest to word, if it is close enough to be a likely typo.
function M.closest(word, candidates)
  local best, bestd
  local lw = tostring(word):lower()
  for _, c in ipairs(candidates) do
    local lc = c:lower()
    local d = distance(lw, lc)
    -- "token" for "token-file", "warning" for "warn": a prefix is a typo too
    if #lw >= 3 and #lc >= 3 and (lc:sub(1, #lw) == lw or lw:sub(1, #lc) == lc) then d = math.min(d, 1) end
    if not bestd or d < bestd then best, bestd = c, d end
  end
  if best and bestd <= math.max(2, #lw // 3) then return best end
  return nil
end

local function suggest(word, candidates)
  local c = M.closest(word, candidates)
  if c then return string.format(' (did you mean "%s"?)', c) end
  if #candidates == 0 then return "" end
  return " (known: " .. table.concat(candidates, ", ") .. ")"
end

-- "an integer", "a map", "empty"
function M.a(kind)
  if kind == "null" then return "empty" end
  return (kind:match("^[aeiou]") and "an " or "a ") .. kind
end

local function join(path, k)
  if path == "" then return tostring(k) end
  return path .. "." .. tostring(k)
end

------------------------------------------------------------------------
-- problems: every error found, each with file, line and column

local Problems = {}
Problems.__index = Problems

local function new_problems() return setmetatable({list = {}, warnings = {}}, Problems) end

-- doc = {file=, pos=}; path = the node's path in the document.
function Problems:add(doc, path, fmt, ...)
  local line, col = 1, 1
  if doc.pos then
    local p = path
    while p do
      local at = doc.pos[p]
      if at then line, col = at.line, at.col; break end
      if p == "" then break end
      p = p:match("^(.*)%.[^.]*$") or ""
    end
  end
  self.list[#self.list + 1] = {file = doc.file, line = line, col = col,
    message = string.format(fmt, ...)}
end

function Problems:text()
  local out = {}
  for _, p in ipairs(self.list) do
    out[#out + 1] = string.format("%s:%d:%d: %s", p.file, p.line, p.col, p.message)
  end
  return table.concat(out, "\n")
end

-- {file=, line=, col=} of a node of a loaded file (a site's or bundle's
-- doc), falling back to its nearest parent that has a position.
local function place(doc, path)
  local P = new_problems()
  P:add(doc, path or "", "")
  return P.list[1]
end

-- "file:line:col" of a node of a loaded file, as place finds it.
function M.where(doc, path)
  local p = place(doc, path)
  return string.format("%s:%d:%d", p.file, p.line, p.col)
end

-- A failure of select or render at a node: nil, "file:line:col: message",
-- and the same as an error value (VALIDATION, with file, line and col).
local function fail_at(doc, path, fmt, ...)
  local p, msg = place(doc, path), string.format(fmt, ...)
  return nil, string.format("%s:%d:%d: %s", p.file, p.line, p.col, msg),
    errors.new(errors.KIND.VALIDATION, msg, {file = p.file, line = p.line, col = p.col})
end

------------------------------------------------------------------------
-- type checks that report and return whether the value is usable

local function want(P, doc, path, v, kind, what)
  local k = kind_of(v)
  if k == kind or (kind == "number" and k == "integer") then return true end
  if kind == "map" and k == "list" and next(v) == nil then return true end
  if kind == "list" and k == "map" and next(v) == nil then return true end
  P:add(doc, path, "%s must be a %s, not %s", what or path, kind, M.a(k))
  return false
end

local function check_keys(P, doc, path, v, known, where)
  for _, k in ipairs(sorted_keys(v)) do
    local found = false
    for _, kk in ipairs(known) do if kk == k then found = true; break end end
    if not found then
      P:add(doc, join(path, k), 'unknown key "%s" in %s%s', tostring(k), where,
        suggest(tostring(k), known))
    end
  end
end

local function name_ok(s)
  return #s <= 63 and (s:match("^[a-z0-9]$") or s:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$")) ~= nil
end

-- Kubernetes label keys: [prefix/]name; values: empty or name-like, 63 max.
local function label_name_ok(s)
  return #s <= 63 and (s:match("^[%w]$") or s:match("^[%w][-%w_.]*[%w]$")) ~= nil
end

local function label_key_ok(s)
  local prefix, name = s:match("^(.*)/(.*)$")
  if not prefix then return label_name_ok(s) end
  return #prefix <= 253 and prefix:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") ~= nil and label_name_ok(name)
end

local function label_value_ok(s) return s == "" or label_name_ok(s) end

local function check_string_map(P, doc, path, v, what)
  if not want(P, doc, path, v, "map", what) then return false end
  local ok = true
  for _, k in ipairs(sorted_keys(v)) do
    local x, p = v[k], join(path, k)
    if not label_key_ok(k) then
      P:add(doc, p, 'label key "%s" is not valid (a name of at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, with an optional DNS prefix and "/")', k)
      ok = false
    end
    if type(x) ~= "string" then
      P:add(doc, p, '%s.%s must be a string, not %s: quote it (%s: "%s")', what, k,
        M.a(kind_of(x)), k, kedge.is_null(x) and "" or tostring(x))
      ok = false
    elseif not label_value_ok(x) then
      P:add(doc, p, 'label value "%s" is not valid (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)', x)
      ok = false
    end
  end
  return ok
end

-- Kubernetes quantities: a decimal number with an optional binary (Ki..Ei),
-- decimal (n u m k M G T P E) or exponent suffix.
local SUFFIXES = {[""] = 1, Ki = 1, Mi = 1, Gi = 1, Ti = 1, Pi = 1, Ei = 1,
  n = 1, u = 1, m = 1, k = 1, M = 1, G = 1, T = 1, P = 1, E = 1}

function M.quantity_ok(v)
  if math.type(v) == "integer" then return v >= 0 end
  if type(v) == "number" then return v >= 0 and v == v and v < math.huge end
  if type(v) ~= "string" then return false end
  local num, suffix = v:match("^%+?([%d.]+)(.*)$")
  if not num or not (num:match("^%d+%.?%d*$") or num:match("^%.%d+$")) then return false end
  return SUFFIXES[suffix] ~= nil or suffix:match("^[eE][+-]?%d+$") ~= nil
end

local function check_resources(P, doc, path, v, what, dims)
  if v == nil then return {} end
  if not want(P, doc, path, v, "map", what) then return {} end
  check_keys(P, doc, path, v, dims, what)
  for _, k in ipairs(dims) do
    local x = v[k]
    if x ~= nil then
      if k == "pods" or k == "nodes" then
        local n = math.tointeger(type(x) == "string" and tonumber(x) or x)
        if not n or n < 0 or (k == "nodes" and n < 1) then
          P:add(doc, join(path, k), "%s.%s must be a whole number%s, not %s", what, k,
            k == "nodes" and " of at least 1" or "", tostring(x))
        end
      elseif not M.quantity_ok(x) then
        P:add(doc, join(path, k), '%s.%s: "%s" is not a Kubernetes quantity (like 500m, 2, 1.5Gi, 512Mi)',
          what, k, tostring(x))
      end
    end
  end
  return v
end

local function check_policy(P, doc, path, v)
  if v == nil then return nil end
  if not want(P, doc, path, v, "map", "policy") then return nil end
  check_keys(P, doc, path, v, KEYS.policy, "policy")
  local mr = v["missing-requests"]
  local p = join(path, "missing-requests")
  if type(mr) == "string" then
    local modes = {"count-as-zero", "warn", "refuse"}
    local found = false
    for _, m in ipairs(modes) do if m == mr then found = true end end
    if not found then
      P:add(doc, p, 'policy.missing-requests "%s" is not one of count-as-zero, warn, refuse or a map of default requests%s',
        mr, suggest(mr, modes):gsub(" %(known:.*", ""))
    end
  elseif mr ~= nil then
    if want(P, doc, p, mr, "map", "policy.missing-requests") then
      check_resources(P, doc, p, mr, "policy.missing-requests", KEYS.missing_default)
    end
  end
  return v
end

local function check_reports(P, doc, path, v)
  if v == nil then return nil end
  if not want(P, doc, path, v, "list", "report") then return nil end
  for i, d in ipairs(v) do
    local p = join(path, i - 1)
    if want(P, doc, p, d, "map", "report[" .. (i - 1) .. "]") then
      local kind
      for _, k in ipairs({"webhook", "git-branch", "dir"}) do
        if d[k] ~= nil then
          if kind then
            P:add(doc, p, "a report destination names one of webhook, git-branch or dir, not both %s and %s", kind, k)
          end
          kind = kind or k
        end
      end
      if not kind then
        P:add(doc, p, "a report destination needs webhook: URL, git-branch: NAME or dir: PATH")
      else
        check_keys(P, doc, p, d, KEYS[kind], kind .. " destination")
        for _, k in ipairs(KEYS[kind]) do
          local v = d[k]
          -- git-branch: true stands for the site's own kedge/status/<site>
          if v ~= nil and not (k == "git-branch" and v == true) then
            want(P, doc, join(p, k), v, (k == "timeout" or k == "attempts") and "number" or "string", k)
          end
        end
        if kind == "webhook" and type(d.webhook) == "string" and not d.webhook:match("^https?://[^/]") then
          P:add(doc, join(p, "webhook"), 'webhook "%s" must be an http:// or https:// URL', d.webhook)
        end
        if kind == "git-branch" and type(d["git-branch"]) == "string" and
            (d["git-branch"]:match("%.%.") or d["git-branch"]:match("^[/-]") or
             d["git-branch"]:match("[%s~^:?*%[\\]") or d["git-branch"] == "") then
          P:add(doc, join(p, "git-branch"), 'git-branch "%s" is not a valid branch name (like kedge/status/<site>)',
            d["git-branch"])
        end
      end
    end
  end
  return v
end

local function check_kube_version(P, doc, path, v)
  if v == nil then return nil end
  if type(v) == "number" then
    P:add(doc, path, 'kubeVersion must be a string: quote it (kubeVersion: "%s")', tostring(v))
    return nil
  end
  if not want(P, doc, path, v, "string", "kubeVersion") then return nil end
  if not semver.parse(v) then
    P:add(doc, path, 'kubeVersion "%s" is not a version (like "1.29.0")', v)
    return nil
  end
  return v
end

------------------------------------------------------------------------
-- label selectors (Kubernetes semantics)

local function check_selector(P, doc, path, sel, keys, what)
  if not want(P, doc, path, sel, "map", what) then return false end
  local ok = true
  check_keys(P, doc, path, sel, keys, what)
  if sel.matchLabels ~= nil then
    ok = check_string_map(P, doc, join(path, "matchLabels"), sel.matchLabels, "matchLabels") and ok
  end
  local me = sel.matchExpressions
  if me ~= nil then
    local mp = join(path, "matchExpressions")
    if not want(P, doc, mp, me, "list", "matchExpressions") then return false end
    for i, e in ipairs(me) do
      local p = join(mp, i - 1)
      if want(P, doc, p, e, "map", "a match expression") then
        check_keys(P, doc, p, e, KEYS.expression, "a match expression")
        if e.key == nil then
          P:add(doc, p, "a match expression needs key: LABEL")
          ok = false
        elseif type(e.key) ~= "string" then
          P:add(doc, join(p, "key"), 'key must be a string, not %s: quote it (key: "%s")', M.a(kind_of(e.key)),
            tostring(e.key))
          ok = false
        elseif not label_key_ok(e.key) then
          P:add(doc, join(p, "key"), 'label key "%s" is not valid', e.key)
          ok = false
        end
        local op = e.operator
        local known = false
        for _, o in ipairs(M.OPERATORS) do if o == op then known = true end end
        if type(op) ~= "string" then
          P:add(doc, p, "a match expression needs operator: In, NotIn, Exists or DoesNotExist")
          ok = false
        elseif not known then
          P:add(doc, join(p, "operator"), 'operator "%s" is not In, NotIn, Exists or DoesNotExist%s',
            op, (suggest(op, M.OPERATORS):gsub(" %(known:.*", "")))
          ok = false
        elseif op == "In" or op == "NotIn" then
          if e.values == nil or (type(e.values) == "table" and next(e.values) == nil) then
            P:add(doc, p, "operator %s needs a non-empty values list", op)
            ok = false
          elseif want(P, doc, join(p, "values"), e.values, "list", "values") then
            for j, x in ipairs(e.values) do
              if type(x) ~= "string" then
                P:add(doc, join(join(p, "values"), j - 1), 'values must be strings: quote it ("%s")', tostring(x))
                ok = false
              end
            end
          else
            ok = false
          end
        elseif e.values ~= nil and not (type(e.values) == "table" and next(e.values) == nil) then
          P:add(doc, join(p, "values"), "operator %s takes no values: remove them", op)
          ok = false
        end
      else
        ok = false
      end
    end
  end
  return ok
end

-- Does one selector {matchLabels, matchExpressions} match labels? Both
-- parts must hold; an empty selector matches everything.
function M.matches(selector, labels)
  labels = labels or {}
  for k, v in pairs(selector.matchLabels or {}) do
    if labels[k] ~= v then return false end
  end
  for _, e in ipairs(selector.matchExpressions or {}) do
    local have = labels[e.key]
    local inset = false
    for _, x in ipairs(e.values or {}) do if x == have then inset = true end end
    if e.operator == "In" then
      if not inset then return false end
    elseif e.operator == "NotIn" then
      if inset then return false end
    elseif e.operator == "Exists" then
      if have == nil then return false end
    elseif e.operator == "DoesNotExist" then
      if have ~= nil then return false end
    else
      error("unknown selector operator " .. tostring(e.operator), 2)
    end
  end
  return true
end

-- Does the bundle go to the site? Bundles without targets go everywhere;
-- otherwise any one target must match.
function M.targets(bundle, s)
  if bundle.targets == nil then return true end
  for _, t in ipairs(bundle.targets) do
    if M.matches(t, s.labels) then return true end
  end
  return false
end

------------------------------------------------------------------------
-- reading files from the tree

local function read_yaml(P, tree, path)
  local text, err = tree:read(path)
  if not text then
    P:add({file = path}, "", "cannot read: %s", err)
    return nil
  end
  local v, pos = yaml.decode(text, {name = path, positions = true})
  if v == nil then
    local e = errors.located(errors.KIND.PARSE, pos, path)
    if e.col then
      P.list[#P.list + 1] = {file = e.file, line = e.line, col = e.col, message = e.msg}
    else
      P:add({file = path}, "", "%s", pos)
    end
    return nil
  end
  return v, {file = path, pos = pos}
end

local function list_names(tree, dir)
  local ents, err = tree:list(dir)
  if not ents then return nil, err end
  local out = {}
  for _, e in ipairs(ents) do
    if type(e) == "string" then out[#out + 1] = {name = e} else out[#out + 1] = e end
  end
  return out
end

-- true, or false with why it is no chart (nil: absent) and the tree's error
local function exists(tree, path)
  if path:match("%.tgz$") then
    local text, err = tree:read(path)
    return text ~= nil, nil, err
  end
  local ents, err = tree:list(path)
  if not ents then return false, nil, err end
  for _, e in ipairs(ents) do
    if (type(e) == "table" and e.name or e) == "Chart.yaml" then return true end
  end
  return false, "has no Chart.yaml"
end

-- Values: a file name, a list of file names (relative to the bundle's
-- folder, merged in order) or an inline map. A file ending in .age is an
-- encrypted layer: not read here (loading needs no key); layers_out, when
-- given, gets every layer in order ({value=} or {secret=path}).
local function load_values(P, tree, doc, path, v, dir, files_out, layers_out)
  if v == nil then return {} end
  if type(v) == "string" then v = {v} end
  if is_map(v) then return v end
  if not is_list(v) then
    want(P, doc, path, v, "map", "values")
    return {}
  end
  local layers = {}
  for i, f in ipairs(v) do
    if type(f) ~= "string" then
      P:add(doc, join(path, i - 1), "values lists name files, each a string, not %s", kind_of(f))
    elseif f:match("^/") or f:match("%.%.") then
      P:add(doc, join(path, i - 1), 'values file "%s" must be a path inside the bundle folder', f)
    elseif f:match("%.age$") then
      local fp = dir .. "/" .. f
      if not layers_out then
        P:add(doc, join(path, i - 1), "encrypted values (%s) go in the bundle's values, not here", f)
      elseif not tree:read(fp) then
        P:add(doc, join(path, i - 1), 'encrypted values file "%s" does not exist (%s)', f, fp)
      else
        if files_out then files_out[#files_out + 1] = fp end
        layers_out[#layers_out + 1] = {secret = fp}
      end
    else
      local fp = dir .. "/" .. f
      local fv, fdoc = read_yaml(P, tree, fp)
      if fdoc then
        if files_out then files_out[#files_out + 1] = fp end
        if fv ~= nil and not kedge.is_null(fv) then
          if want(P, fdoc, "", fv, "map", "a values file") then
            layers[#layers + 1] = fv
            if layers_out then layers_out[#layers_out + 1] = {value = fv} end
          end
        end
      end
    end
  end
  return chart.merge_values(layers)
end

------------------------------------------------------------------------
-- values

-- Helm's coalescing of values layers (kedge.chart.merge_values, the merge
-- kedge render uses): maps merge key by key, recursively; anything else
-- (lists, scalars, null) in the overlay replaces. Returns a new table;
-- neither argument is changed.
function M.merge(base, overlay)
  return chart.merge_values({base, overlay})
end

local function resolve(repo, s, b)
  if type(s) == "string" then
    s = repo.sites[s] or error("no site " .. s, 3)
  end
  if type(b) == "string" then
    b = repo.bundles[b] or error("no bundle " .. b, 3)
  end
  return s, b
end

-- A decrypted YAML document (an encrypted layer or the site's secrets
-- file) through opts.decrypt(bytes, path) -> plaintext or nil, err.
local function decrypt_yaml(repo, path, decrypt)
  local data, rerr = repo.tree:read(path)
  if not data then return nil, path .. ": " .. tostring(rerr) end
  local text, derr = decrypt(data, path)
  if not text then return nil, path .. ": " .. tostring(derr) end
  -- no positions: a parse error must not quote the plaintext
  local v = yaml.decode(text)
  if v == nil then return nil, path .. ": the decrypted file is not YAML" end
  if kedge.is_null(v) then return {} end
  if type(v) ~= "table" or is_list(v) then return nil, path .. ": the decrypted file is not a map" end
  return v
end

-- The files whose layers opts lacks a key for go to opts.skipped (a
-- list), and the values are made without them (kedge check without
-- --identity); with opts.decrypt they are decrypted in memory.
local function secret_layer(repo, path, opts)
  if not opts.decrypt then
    if opts.skipped then opts.skipped[#opts.skipped + 1] = path end
    return {}
  end
  return decrypt_yaml(repo, path, opts.decrypt)
end

-- bundle values (encrypted layers in their place) ◄ every matching
-- targetValues entry, in order ◄ the site's values[bundle] ◄ the site's
-- secrets file's [bundle]. Returns the values, or nil, err when a layer
-- does not decrypt.
function M.values_for(repo, s, b, opts)
  s, b = resolve(repo, s, b)
  opts = opts or {}
  local base = b.values or {}
  if b.values_layers then
    local ls = {}
    for _, l in ipairs(b.values_layers) do
      local v, err = l.value, nil
      if l.secret then v, err = secret_layer(repo, l.secret, opts) end
      if not v then return nil, err end
      ls[#ls + 1] = v
    end
    base = chart.merge_values(ls)
  end
  local layers = {base}
  for _, tv in ipairs(b.targetValues or {}) do
    if M.matches(tv, s.labels) then layers[#layers + 1] = tv.values or {} end
  end
  if s.values and s.values[b.name] then layers[#layers + 1] = s.values[b.name] end
  if s.secrets_file then
    local sv, err = secret_layer(repo, s.secrets_file, opts)
    if not sv then return nil, err end
    if type(sv[b.name]) == "table" then layers[#layers + 1] = sv[b.name] end
  end
  return chart.merge_values(layers)
end

-- The encrypted files site s uses through its selected bundles (list):
-- values layers, secrets: manifests, then its own secrets file; each once.
function M.secret_files(s, list)
  local out, seen = {}, {}
  local function add(p) if not seen[p] then seen[p] = true; out[#out + 1] = p end end
  for _, b in ipairs(list) do
    for _, l in ipairs(b.values_layers or {}) do if l.secret then add(l.secret) end end
    for _, p in ipairs(b.secrets or {}) do add(p) end
  end
  if s.secrets_file then add(s.secrets_file) end
  return out
end

-- The objects of the bundle's secrets: files (whole manifests, decrypted
-- in memory), appended to objs; nil, err when one does not decrypt.
local function secret_objects(repo, b, opts, objs)
  for _, path in ipairs(b.secrets or {}) do
    if not opts.decrypt then
      if opts.skipped then opts.skipped[#opts.skipped + 1] = path end
    else
      local data, rerr = repo.tree:read(path)
      if not data then return nil, path .. ": " .. tostring(rerr) end
      local text, derr = opts.decrypt(data, path)
      if not text then return nil, path .. ": " .. tostring(derr) end
      local docs = yaml.decode_all(text)
      if not docs then return nil, path .. ": the decrypted file is not YAML" end
      for _, o in ipairs(docs) do
        if type(o) == "table" and not kedge.is_null(o) and next(o) ~= nil then
          if type(o.kind) ~= "string" or type(o.apiVersion) ~= "string" then
            return nil, path .. ": every document must be a Kubernetes object (apiVersion, kind)"
          end
          objs[#objs + 1] = o
        end
      end
    end
  end
  return true
end

------------------------------------------------------------------------
-- loading

-- age recipients: X25519 (age1...) or SSH ed25519 public keys; kedge.age
-- parses them fully where they are used.
local function check_recipients(P, doc, path, v)
  if v == nil then return nil end
  if type(v) == "string" then v = {v} end
  if not want(P, doc, path, v, "list", "recipients") then return nil end
  local out = {}
  for i, r in ipairs(v) do
    if type(r) ~= "string" or not (r:match("^age1[02-9ac-hj-np-z]+$") or r:match("^ssh%-ed25519 [%w+/=]+")) then
      P:add(doc, join(path, i - 1), "a recipient is an age public key (age1...) or an ssh-ed25519 public key line")
    else
      out[#out + 1] = r
    end
  end
  return out
end

-- windows: (kedge.windows) of kedge.yaml, a site or a bundle: the list,
-- each problem at its field; repeated windows are warnings.
local function check_windows(P, doc, v)
  local list, problems, warns = windows.parse(v, "windows")
  for _, p in ipairs(problems) do
    P:add(doc, (p.path:gsub("%[(%d+)%]", ".%1")), "%s: %s", p.path, p.message)
  end
  for _, w in ipairs(warns) do
    P.warnings[#P.warnings + 1] = string.format("%s: %s: %s (remove one)",
      M.where(doc, (w.path:gsub("%[(%d+)%]", ".%1"))), w.path, w.message)
  end
  return list
end

-- images: {require: present|off}: whether a pass needs every image its
-- objects name in the node's image store or pack first (kedge.preflight);
-- off when absent.
local function check_images(P, doc, v)
  local out = {require = "off"}
  if v == nil or not want(P, doc, "images", v, "map", "images") then return out end
  check_keys(P, doc, "images", v, KEYS.images, "images")
  local r = v.require
  -- YAML 1.1 (Helm's) reads a bare off as false
  if r == nil or r == false then return out end
  for _, m in ipairs(M.IMAGE_REQUIRE) do
    if r == m then out.require = r; return out end
  end
  P:add(doc, "images.require", 'images.require is present (every image must be on the node or in its pack before anything is applied) or off, not %s%s',
    type(r) == "string" and ('"' .. r .. '"') or M.a(kind_of(r)),
    type(r) == "string" and suggest(r, M.IMAGE_REQUIRE):gsub(" %(known:.*", "") or "")
  return out
end

-- allowDowngrade, paused and its reason, on a site or a bundle (v), into
-- out: booleans as given (nil when absent), the reason a non-empty string.
local function check_release(P, doc, v, out)
  if v.allowDowngrade ~= nil and want(P, doc, "allowDowngrade", v.allowDowngrade, "boolean") then
    out.allowDowngrade = v.allowDowngrade
  end
  if v.paused ~= nil and want(P, doc, "paused", v.paused, "boolean") then out.paused = v.paused end
  if v.reason ~= nil and want(P, doc, "reason", v.reason, "string") then
    if v.reason == "" then P:add(doc, "reason", "reason must say why (it is shown where the pause is)") end
    out.reason = v.reason
  end
  if out.paused and v.reason == nil then
    P:add(doc, "paused", "paused: true needs a reason: (why, and who to ask; reports and kedge status show it)")
  end
end

local function load_settings(P, tree)
  local ents = list_names(tree, "") or {}
  local present = false
  for _, e in ipairs(ents) do if e.name == "kedge.yaml" then present = true end end
  local settings = {file = "kedge.yaml"}
  if not present then return settings end
  local v, doc = read_yaml(P, tree, "kedge.yaml")
  if not doc or v == nil or kedge.is_null(v) then return settings end
  if not want(P, doc, "", v, "map", "kedge.yaml") then return settings end
  check_keys(P, doc, "", v, KEYS.settings, "kedge.yaml")
  settings.kubeVersion = check_kube_version(P, doc, "kubeVersion", v.kubeVersion)
  settings.policy = check_policy(P, doc, "policy", v.policy)
  settings.report = check_reports(P, doc, "report", v.report)
  settings.recipients = check_recipients(P, doc, "recipients", v.recipients)
  settings.windows = check_windows(P, doc, v.windows)
  return settings
end

-- listed: the names in sites/ (the site's secrets file is looked up there,
-- not read: a fleet of thousands of sites has few such files)
local function load_site(P, tree, path, stem, settings, listed)
  local v, doc = read_yaml(P, tree, path)
  if not doc then return nil end
  if not want(P, doc, "", v, "map", "a site file") then return nil end
  check_keys(P, doc, "", v, KEYS.site, "a site")
  local s = {file = path, doc = doc}
  if v.name == nil then
    P:add(doc, "", 'the site has no name: add "name: %s"', stem)
  elseif want(P, doc, "name", v.name, "string", "name") then
    if v.name ~= stem then
      P:add(doc, "name", 'the site is named "%s" but its file is %s: a site file must be named after the site (rename the file to sites/%s.yaml or set name: %s)',
        v.name, path, v.name, stem)
    end
  end
  s.name = stem
  if not name_ok(stem) then
    P:add(doc, "", 'site name "%s" must be lowercase letters, digits, "-" and "." (63 at most), starting and ending with a letter or digit', stem)
  end
  s.labels = v.labels ~= nil and check_string_map(P, doc, "labels", v.labels, "labels") and v.labels or {}
  s.capacity = check_resources(P, doc, "capacity", v.capacity, "capacity", DIMENSIONS)
  s.reserve = check_resources(P, doc, "reserve", v.reserve, "reserve", DIMENSIONS)
  s.policy = M.merge(settings.policy or {}, check_policy(P, doc, "policy", v.policy) or {})
  if v.recipe ~= nil and want(P, doc, "recipe", v.recipe, "string", "recipe") then
    if not tree:read(v.recipe) then
      P:add(doc, "recipe", 'recipe "%s" does not exist in the repo (a path from the repo root, like recipes/%s.lua)', v.recipe, stem)
    end
    s.recipe = v.recipe
  end
  s.values = {}
  if v.values ~= nil and want(P, doc, "values", v.values, "map", "values") then
    s.values = v.values
  end
  s.exec = false
  if v.exec ~= nil and want(P, doc, "exec", v.exec, "boolean", "exec") then s.exec = v.exec end
  s.kubeVersion = check_kube_version(P, doc, "kubeVersion", v.kubeVersion)
  s.kube_version = s.kubeVersion or settings.kubeVersion or M.DEFAULT_KUBE_VERSION
  s.report = check_reports(P, doc, "report", v.report) or deep_copy(settings.report) or {}
  s.recipients = check_recipients(P, doc, "recipients", v.recipients) or {}
  s.windows = check_windows(P, doc, v.windows)
  s.images = check_images(P, doc, v.images)
  -- the site's encrypted last values layer, when the repo has one
  if listed[stem .. ".secrets.yaml.age"] then s.secrets_file = "sites/" .. stem .. ".secrets.yaml.age" end
  check_release(P, doc, v, s)
  return s
end

local function check_smoke(P, doc, path, v)
  if v == nil then return {} end
  if not want(P, doc, path, v, "list", "smoke") then return {} end
  local seen = {}
  for i, t in ipairs(v) do
    local p = join(path, i - 1)
    if want(P, doc, p, t, "map", "a smoke test") then
      if type(t.name) ~= "string" or t.name == "" then
        P:add(doc, p, "a smoke test needs a name")
      elseif seen[t.name] then
        P:add(doc, join(p, "name"), 'smoke test "%s" is declared twice (names must be unique in a bundle)', t.name)
      else
        seen[t.name] = true
      end
      local known = false
      for _, k in ipairs(M.SMOKE_TYPES) do if k == t.type then known = true end end
      if t.type == nil then
        P:add(doc, p, "smoke test needs a type: %s", table.concat(M.SMOKE_TYPES, ", "))
      elseif not known then
        P:add(doc, join(p, "type"), 'smoke test type "%s" is not one of %s%s', tostring(t.type),
          table.concat(M.SMOKE_TYPES, ", "), (suggest(tostring(t.type), M.SMOKE_TYPES):gsub(" %(known:.*", "")))
      end
    end
  end
  -- Only name and type are checked here; the keys of each type are
  -- kedge.smoke's to check (smoke.validate), which the integration of the
  -- pass calls for the selected bundles.
  return v
end

-- A chart from a Helm repository: {repo: https://…, name:, version: RANGE}.
local function remote_repo_chart(P, doc, v, b)
  local c = v.chart
  check_keys(P, doc, "chart", c, KEYS.remote_chart, "a chart from a repository")
  local ok = true
  if c.repo == nil or c.name == nil then
    P:add(doc, "chart", "a chart from a repository needs repo: (https://…) and name:")
    ok = false
  end
  ok = (c.repo == nil or want(P, doc, "chart.repo", c.repo, "string", "chart.repo")) and ok
  ok = (c.name == nil or want(P, doc, "chart.name", c.name, "string", "chart.name")) and ok
  if type(c.repo) == "string" and not c.repo:match("^https?://[^/]") then
    P:add(doc, "chart.repo", "chart.repo %q must be an https:// (or http://) URL", c.repo)
    ok = false
  end
  if c.version ~= nil and want(P, doc, "chart.version", c.version, "string", "chart.version") then
    local vok, verr = semver.valid_range(c.version)
    if not vok then P:add(doc, "chart.version", "chart.version %q: %s", c.version, verr); ok = false end
  end
  if v.version ~= nil then P:add(doc, "version", "give the version inside chart: (chart.version)") end
  if ok then
    b.remote = {kind = "repo", repo = c.repo, name = c.name, version = c.version}
    b.chart = c.repo:gsub("/+$", "") .. "/" .. c.name
  end
end

-- The bundle's chart: a path in the repo, oci://… with version:, or a
-- repository's.
local function load_chart(P, tree, doc, v, b)
  if v.chart == nil then
    P:add(doc, "", "the bundle names no chart: add chart: charts/<folder or .tgz>")
  elseif kind_of(v.chart) == "map" then
    remote_repo_chart(P, doc, v, b)
  elseif want(P, doc, "chart", v.chart, "string", "chart") and v.chart:match("^oci://") then
    b.chart, b.remote = v.chart, {kind = "oci", ref = v.chart, version = v.version}
    local ok, why = require("kedge.oci").parse_ref(v.chart)
    if not ok then P:add(doc, "chart", "%s", why) end
    if v.version == nil then
      P:add(doc, "chart", "an oci:// chart needs version: (a version or a range, like 1.2.x)")
    elseif want(P, doc, "version", v.version, "string", "version") then
      local vok, verr = semver.valid_range(v.version)
      if not vok then P:add(doc, "version", "version %q: %s", v.version, verr) end
    end
  elseif type(v.chart) == "string" then
    b.chart = v.chart
    if v.version ~= nil then
      P:add(doc, "version", "version: is for charts from a registry (oci://) or a repository ({repo:, name:, version:}); a chart in the repo has its own")
    end
    local ok, why, terr = false, nil, nil
    if v.chart:match("^/") or v.chart:match("%.%.") then
      why = "must be a path inside the repo, from its root"
    else
      ok, why, terr = exists(tree, v.chart)
    end
    if not ok then
      local near = ""
      local parent = v.chart:match("^(.*)/[^/]*$") or ""
      local ents = list_names(tree, parent)
      -- a symbolic link that is there but cannot be followed (out of the
      -- repository): the tree's own reason, as for values files
      local base = v.chart:match("[^/]*$")
      for _, e in ipairs(ents or {}) do
        if e.name == base and e.type == "link" and terr and not why then
          why = "cannot be read: " .. tostring(terr)
        end
      end
      if ents and not why then
        local cands = {}
        for _, e in ipairs(ents) do cands[#cands + 1] = (parent ~= "" and parent .. "/" or "") .. e.name end
        local c = M.closest(v.chart, cands)
        if c then near = string.format(' (did you mean "%s"?)', c) end
      end
      P:add(doc, "chart", 'chart "%s" %s%s', v.chart,
        why or "does not exist in the repo (a chart folder or .tgz, from the repo root)", near)
    end
  end
end

-- A wave's soak: a duration ("2h"), or {duration: 2h, smoke: every 10m}
-- (the site reruns its smoke tests that often while it soaks). -> the
-- seconds (0 when there is none) and the smoke interval's, or nil.
local function check_soak(P, doc, p, v)
  if v == nil then return 0 end
  local function secs(x) return type(x) == "string" and kedge.duration(x) or nil end
  if type(v) ~= "table" then
    local d = secs(v)
    if d then return math.floor(d) end
    P:add(doc, p, 'soak must be a duration like "2h", "30m" or "1h30m", or {duration: 2h, smoke: every 10m}, ' ..
      "not %s", tostring(v))
    return 0
  end
  if not want(P, doc, p, v, "map", "a wave's soak") then return 0 end
  check_keys(P, doc, p, v, KEYS.soak, "a wave's soak")
  local d = secs(v.duration)
  if not d then
    P:add(doc, join(p, "duration"), 'duration must be a duration like "2h", "30m" or "1h30m", not %s',
      tostring(v.duration))
    return 0
  end
  d = math.floor(d)
  if v.smoke == nil then return d end
  local every = type(v.smoke) == "string" and secs(v.smoke:match("^every%s+(%S+)$") or "")
  if not every or every < 1 then
    P:add(doc, join(p, "smoke"), 'smoke must say how often to rerun the smoke tests while the wave soaks, ' ..
      'like "every 10m", not %s', tostring(v.smoke))
    return d
  end
  if every > d then
    P:add(doc, join(p, "smoke"), "smoke every %s is longer than the soak (%s): no rerun would happen; " ..
      "rerun more often or soak longer", v.smoke:match("%S+$"), v.duration)
    return d
  end
  return d, math.floor(every)
end

-- rollout: {waves = [{name, selector | percent, soak}], health = {...}}
-- -> {waves = {{name=, selector=, percent=, soak=SECONDS, smoke_every=
-- SECONDS|nil}}, health =
-- {min_success = PERCENT, max_failures = N, when_unknown = "wait"|"proceed"}}
-- (kedge.waves decides with it). percent is cumulative over the sites the
-- selector waves leave, so it must grow from wave to wave.
local function check_rollout(P, doc, v)
  if v == nil or not want(P, doc, "rollout", v, "map", "rollout") then return nil end
  check_keys(P, doc, "rollout", v, KEYS.rollout, "rollout")
  local r = {waves = {}, health = {min_success = 100, max_failures = 0, when_unknown = "wait"}}
  if v.waves == nil or (type(v.waves) == "table" and next(v.waves) == nil) then
    P:add(doc, "rollout", "rollout needs waves: a list of {name, selector or percent, soak}")
  elseif want(P, doc, "rollout.waves", v.waves, "list", "rollout.waves") then
    local seen, last = {}, 0
    for i, w in ipairs(v.waves) do
      local p = join("rollout.waves", i - 1)
      if want(P, doc, p, w, "map", "a wave") then
        check_keys(P, doc, p, w, KEYS.wave, "a wave")
        local out = {}
        if type(w.name) ~= "string" or not name_ok(w.name) then
          P:add(doc, join(p, "name"), "a wave needs a name (lowercase letters, digits and \"-\")")
        elseif seen[w.name] then
          P:add(doc, join(p, "name"), 'wave "%s" is declared twice', w.name)
        else
          seen[w.name], out.name = true, w.name
        end
        if (w.selector == nil) == (w.percent == nil) then
          P:add(doc, p, "a wave needs a selector {matchLabels: ...} or a percent (1 to 100), one of them")
        elseif w.selector ~= nil then
          if check_selector(P, doc, join(p, "selector"), w.selector, KEYS.selector, "a wave's selector") then
            out.selector = w.selector
          end
        elseif math.type(w.percent) ~= "integer" or w.percent < 1 or w.percent > 100 then
          P:add(doc, join(p, "percent"), "percent must be a whole number from 1 to 100, not %s", tostring(w.percent))
        elseif w.percent <= last then
          P:add(doc, join(p, "percent"), "percent %d does not grow past the wave before (%d): percents count " ..
            "the sites so far, so a later wave names a larger share", w.percent, last)
        else
          out.percent, last = w.percent, w.percent
        end
        out.soak, out.smoke_every = check_soak(P, doc, join(p, "soak"), w.soak)
        r.waves[#r.waves + 1] = out
      end
    end
  end
  local h = v.health
  if h ~= nil and want(P, doc, "rollout.health", h, "map", "rollout.health") then
    check_keys(P, doc, "rollout.health", h, KEYS.health, "rollout.health")
    if h.minSuccess ~= nil then
      local n = tostring(h.minSuccess):match("^(%d+)%%$")
      n = tonumber(n)
      if not n or n > 100 then
        P:add(doc, "rollout.health.minSuccess", 'minSuccess must be a share like "90%%" (0%% to 100%%), not %s',
          tostring(h.minSuccess))
      else
        r.health.min_success = n
      end
    end
    if h.maxFailures ~= nil then
      if math.type(h.maxFailures) ~= "integer" or h.maxFailures < 0 then
        P:add(doc, "rollout.health.maxFailures", "maxFailures must be a whole number, 0 or more, not %s",
          tostring(h.maxFailures))
      else
        r.health.max_failures = h.maxFailures
      end
    end
    if h.whenUnknown ~= nil then
      if h.whenUnknown ~= "wait" and h.whenUnknown ~= "proceed" then
        P:add(doc, "rollout.health.whenUnknown", 'whenUnknown must be wait or proceed, not %s', tostring(h.whenUnknown))
      else
        r.health.when_unknown = h.whenUnknown
      end
    end
  end
  return r
end

local function load_bundle(P, tree, name)
  local dir = "bundles/" .. name
  local path = dir .. "/bundle.yaml"
  local v, doc = read_yaml(P, tree, path)
  if not doc then return nil end
  if not want(P, doc, "", v, "map", "a bundle file") then return nil end
  check_keys(P, doc, "", v, KEYS.bundle, "a bundle")
  local b = {name = name, dir = dir, file = path, doc = doc}
  if not name_ok(name) or #name > 47 then
    P:add(doc, "", 'bundle folder name "%s" must be lowercase letters, digits, "-" and "." (47 at most), starting and ending with a letter or digit', name)
  end
  load_chart(P, tree, doc, v, b)
  b.release = name
  if v.release ~= nil and want(P, doc, "release", v.release, "string", "release") then
    if not name_ok(v.release) or #v.release > 53 then
      P:add(doc, "release", 'release "%s" is not a valid Helm release name (lowercase letters, digits, "-" and ".", 53 at most)', v.release)
    end
    b.release = v.release
  end
  b.namespace = "default"
  if v.namespace ~= nil and want(P, doc, "namespace", v.namespace, "string", "namespace") then
    if not (#v.namespace <= 63 and (v.namespace:match("^[a-z0-9]$") or v.namespace:match("^[a-z0-9][a-z0-9-]*[a-z0-9]$"))) then
      P:add(doc, "namespace", 'namespace "%s" is not a valid name (lowercase letters, digits and "-", 63 at most)', v.namespace)
    end
    b.namespace = v.namespace
  end
  b.values_files = {}
  local layers = {}
  b.values = load_values(P, tree, doc, "values", v.values, dir, b.values_files, layers)
  for _, l in ipairs(layers) do if l.secret then b.values_layers = layers end end
  b.secrets = {}
  if v.secrets ~= nil and want(P, doc, "secrets", v.secrets, "list", "secrets") then
    for i, f in ipairs(v.secrets) do
      local at = join("secrets", i - 1)
      if type(f) ~= "string" or not f:match("%.age$") or f:match("^/") or f:match("%.%.") then
        P:add(doc, at, "secrets lists encrypted manifest files in the bundle folder, each NAME.age")
      elseif not tree:read(dir .. "/" .. f) then
        P:add(doc, at, 'secrets file "%s" does not exist (%s/%s)', f, dir, f)
      else
        b.secrets[#b.secrets + 1] = dir .. "/" .. f
      end
    end
  end
  if v.targets ~= nil then
    b.targets = {}
    if want(P, doc, "targets", v.targets, "list", "targets") then
      for i, t in ipairs(v.targets) do
        if check_selector(P, doc, join("targets", i - 1), t, KEYS.selector, "a target") then
          b.targets[#b.targets + 1] = t
        end
      end
    end
  end
  b.targetValues = {}
  if v.targetValues ~= nil and want(P, doc, "targetValues", v.targetValues, "list", "targetValues") then
    for i, t in ipairs(v.targetValues) do
      local p = join("targetValues", i - 1)
      if check_selector(P, doc, p, t, KEYS.target_values, "a targetValues entry") then
        if t.values == nil then
          P:add(doc, p, "a targetValues entry needs values (a map, or values files)")
        end
        b.targetValues[#b.targetValues + 1] = {matchLabels = t.matchLabels,
          matchExpressions = t.matchExpressions,
          values = load_values(P, tree, doc, join(p, "values"), t.values, dir)}
      end
    end
  end
  b.dependsOn = {}
  if v.dependsOn ~= nil then
    local dep = v.dependsOn
    if type(dep) == "string" then dep = {dep} end
    if want(P, doc, "dependsOn", dep, "list", "dependsOn") then
      for i, d in ipairs(dep) do
        if type(d) ~= "string" then
          P:add(doc, join("dependsOn", i - 1), "dependsOn lists bundle names (strings), not %s", kind_of(d))
        else
          b.dependsOn[#b.dependsOn + 1] = d
        end
      end
    end
  end
  b.extraImages = {}
  if v.extraImages ~= nil and want(P, doc, "extraImages", v.extraImages, "list", "extraImages") then
    -- images the rendered objects do not name (pulled at run time): packs
    -- carry them and the image preflight asks for them too
    local images = require "kedge.images"
    for i, ref in ipairs(v.extraImages) do
      local _, err = images.parse_ref(ref)
      if err then P:add(doc, join("extraImages", i - 1), "extraImages lists image references: %s", err)
      else b.extraImages[#b.extraImages + 1] = ref end
    end
  end
  b.smoke = check_smoke(P, doc, "smoke", v.smoke)
  b.windows = check_windows(P, doc, v.windows)
  b.rollout = check_rollout(P, doc, v.rollout)
  check_release(P, doc, v, b)
  return b
end

-- A dependency cycle as "a -> b -> a", or nil.
local function find_cycle(bundles, names)
  local state, stack = {}, {}
  local function visit(n)
    state[n] = "open"
    stack[#stack + 1] = n
    for _, d in ipairs(bundles[n].dependsOn) do
      if bundles[d] then
        if state[d] == "open" then
          local cyc, start = {}, nil
          for i, x in ipairs(stack) do if x == d then start = i end end
          for i = start, #stack do cyc[#cyc + 1] = stack[i] end
          cyc[#cyc + 1] = d
          return cyc
        elseif not state[d] then
          local c = visit(d)
          if c then return c end
        end
      end
    end
    stack[#stack] = nil
    state[n] = "done"
    return nil
  end
  for _, n in ipairs(names) do
    if not state[n] then
      local c = visit(n)
      if c then return c end
    end
  end
  return nil
end

-- Loads and validates the whole repo. tree: anything with read(path) and
-- list(dir) (a kedge.git repo, site.dir_tree). Returns the repo model, or
-- nil, the problems as text (one per line), and the list of problems
-- ({file=, line=, col=, message=}).
function M.load(tree)
  assert(type(tree) == "userdata" or type(tree) == "table", "site.load: give a tree (kedge.git repo or site.dir_tree)")
  local P = new_problems()
  local repo = {tree = tree, sites = {}, bundles = {}, site_names = {}, bundle_names = {},
    warnings = {}}
  repo.settings = load_settings(P, tree)

  local bents = list_names(tree, "bundles")
  for _, e in ipairs(bents or {}) do
    if e.type == nil or e.type == "dir" then
      local files = list_names(tree, "bundles/" .. e.name)
      if files then
        local has = false
        for _, f in ipairs(files) do if f.name == "bundle.yaml" then has = true end end
        if has then
          local b = load_bundle(P, tree, e.name)
          if b then
            repo.bundles[e.name] = b
            repo.bundle_names[#repo.bundle_names + 1] = e.name
          end
        else
          local alt = ""
          for _, f in ipairs(files) do
            if f.name == "bundle.yml" then alt = " (rename bundle.yml to bundle.yaml)" end
          end
          P:add({file = "bundles/" .. e.name .. "/"}, "", "the folder has no bundle.yaml%s: add one or remove the folder", alt)
        end
      end
    end
  end
  table.sort(repo.bundle_names)

  local sents, serr = list_names(tree, "sites")
  if not sents then
    P:add({file = "sites/"}, "", "the repo has no sites folder (%s): add sites/<name>.yaml, one file per site", serr)
  else
    local listed = {}
    for _, e in ipairs(sents) do listed[e.name] = true end
    for _, e in ipairs(sents) do
      local stem = e.name:match("^(.+)%.ya?ml$")
      if stem and (e.type == nil or e.type == "file" or e.type == "link") then
        if repo.sites[stem] then
          P:add({file = "sites/" .. e.name}, "", "site %s is defined twice (sites/%s.yaml and sites/%s.yml): keep one", stem, stem, stem)
        else
          local s = load_site(P, tree, "sites/" .. e.name, stem, repo.settings, listed)
          if s then
            repo.sites[stem] = s
            repo.site_names[#repo.site_names + 1] = stem
          end
        end
      end
    end
    if #repo.site_names == 0 and #P.list == 0 then
      P:add({file = "sites/"}, "", "no site files: add sites/<name>.yaml, one file per site")
    end
  end
  table.sort(repo.site_names)
  for _, w in ipairs(P.warnings) do repo.warnings[#repo.warnings + 1] = w end

  -- cross references
  for _, n in ipairs(repo.bundle_names) do
    local b = repo.bundles[n]
    for i, d in ipairs(b.dependsOn) do
      if d == n then
        P:add(b.doc, join("dependsOn", i - 1), "bundle %s depends on itself: remove it from dependsOn", n)
      elseif not repo.bundles[d] then
        P:add(b.doc, join("dependsOn", i - 1), 'dependsOn names bundle "%s", which does not exist (no bundles/%s/bundle.yaml)%s',
          d, d, suggest(d, repo.bundle_names))
      end
    end
  end
  local cyc = find_cycle(repo.bundles, repo.bundle_names)
  if cyc and #cyc > 2 then
    local b = repo.bundles[cyc[1]]
    local at = "dependsOn"
    for i, d in ipairs(b.dependsOn) do if d == cyc[2] then at = join("dependsOn", i - 1) end end
    P:add(b.doc, at, "dependsOn makes a cycle: %s (remove one of these dependencies)", table.concat(cyc, " -> "))
  end
  for _, n in ipairs(repo.site_names) do
    local s = repo.sites[n]
    for _, bn in ipairs(sorted_keys(s.values)) do
      local p = join("values", bn)
      if not repo.bundles[bn] then
        P:add(s.doc, p, 'values for bundle "%s", which does not exist%s', tostring(bn), suggest(tostring(bn), repo.bundle_names))
      elseif want(P, s.doc, p, s.values[bn], "map", "values." .. bn) then
        if not M.targets(repo.bundles[bn], s) then
          repo.warnings[#repo.warnings + 1] = string.format(
            "%s: values for bundle %s, which does not target this site (they are unused)", s.file, bn)
        end
      end
    end
  end

  for _, n in ipairs(repo.bundle_names) do
    local b = repo.bundles[n]
    for i, w in ipairs(b.rollout and b.rollout.waves or {}) do
      if w.selector then
        local hit = false
        for _, sn in ipairs(repo.site_names) do
          if M.targets(b, repo.sites[sn]) and M.matches(w.selector, repo.sites[sn].labels or {}) then
            hit = true
            break
          end
        end
        if not hit then
          repo.warnings[#repo.warnings + 1] = string.format("%s: rollout.waves.%d.selector of wave %s " ..
            "matches no site the bundle targets (the wave is empty)", M.where(b.doc, "rollout.waves." ..
            (i - 1) .. ".selector"), i - 1, tostring(w.name))
        end
      end
      if w.smoke_every and #(b.smoke or {}) == 0 then
        repo.warnings[#repo.warnings + 1] = string.format("%s: wave %s reruns the smoke tests while it " ..
          "soaks, but the bundle has none (add smoke: tests, or drop soak.smoke)",
          M.where(b.doc, "rollout.waves." .. (i - 1) .. ".soak.smoke"), tostring(w.name))
      end
    end
  end

  if #P.list > 0 then
    table.sort(P.list, function(a, b)
      if a.file ~= b.file then return a.file < b.file end
      if a.line ~= b.line then return a.line < b.line end
      return a.col < b.col
    end)
    return nil, P:text(), P.list
  end
  return repo
end

------------------------------------------------------------------------
-- select

-- The bundles that go to the site, dependencies first (names in order
-- among those free to go), or nil, err (and, when err names a place in
-- the repo, err as an error value with file, line and col).
function M.select(repo, s)
  if type(s) == "string" then
    local name = s
    s = repo.sites[name]
    if not s then
      return nil, string.format('no site "%s" in the repo (no sites/%s.yaml)%s', name, name,
        suggest(name, repo.site_names))
    end
  end
  local chosen, names = {}, {}
  for _, n in ipairs(repo.bundle_names) do
    if M.targets(repo.bundles[n], s) then
      chosen[n] = repo.bundles[n]
      names[#names + 1] = n
    end
  end
  for _, n in ipairs(names) do
    for _, d in ipairs(chosen[n].dependsOn) do
      if not chosen[d] then
        local at = "dependsOn"
        for i, x in ipairs(chosen[n].dependsOn) do
          if x == d then at = join("dependsOn", i - 1) end
        end
        if not repo.bundles[d] then
          return fail_at(chosen[n].doc, at, "dependsOn names bundle %s, which does not exist", d)
        end
        return fail_at(chosen[n].doc, at, "bundle %s depends on %s, which does not target site %s: make %s target it too, or drop the dependency",
          n, d, s.name, d)
      end
    end
  end
  local cyc = find_cycle(chosen, names)
  if cyc then
    return fail_at(chosen[cyc[1]].doc, "dependsOn", "dependsOn makes a cycle: %s",
      table.concat(cyc, " -> "))
  end
  -- Kahn's algorithm, taking the smallest name among the ready ones.
  local out, done = {}, {}
  while #out < #names do
    local pick
    for _, n in ipairs(names) do
      if not done[n] then
        local ready = true
        for _, d in ipairs(chosen[n].dependsOn) do if not done[d] then ready = false end end
        if ready then pick = n; break end
      end
    end
    done[pick] = true
    out[#out + 1] = chosen[pick]
  end
  return out
end

------------------------------------------------------------------------
-- render

local function tree_root(repo)
  local t = repo.tree
  local ok, p = pcall(function() return t:path() end)
  if ok and type(p) == "string" then return p end
  return nil
end

-- The bundle's chart, loaded: from the repo's tree, or fetched through
-- opts.charts (a kedge.charts resolver; without one, fetched into memory
-- only), with the dependencies charts/ lacks fetched the same way.
local function load_chart_of(repo, b, opts)
  local c, err
  if b.remote then
    opts.charts = opts.charts or require("kedge.charts").new{}
    local tgz, info = opts.charts:fetch(b.remote)
    if not tgz then return nil, info end
    c, err = chart.load_tgz(tgz, b.chart .. ":" .. tostring(info.version))
    if not c then return nil, string.format("chart %s: %s", b.chart, err) end
  else
    local root = tree_root(repo)
    if not root then return nil, "site.render: the tree has no path() to load charts from" end
    c, err = chart.load(root .. "/" .. b.chart)
    if not c then return nil, string.format("chart %s: %s", b.chart, err) end
  end
  local deps = c:info().meta.dependencies
  if type(deps) == "table" and #deps > 0 then
    opts.charts = opts.charts or require("kedge.charts").new{}
    local ok, derr = opts.charts:dependencies(c)
    if not ok then
      c:close()
      return nil, string.format("chart %s: %s", b.chart, derr)
    end
  end
  return c
end

-- A chart's name and version without rendering it ({name=, version=}, or
-- nil, err): Chart.yaml of a chart folder, the archive's of a .tgz. tree:
-- anything with read(path) (a .tgz outside a tree with path() is read
-- through a temporary file). The gates and kedge check --base read it.
function M.chart_meta(tree, path)
  if path:match("%.tgz$") then
    local file, tmp = nil, nil
    local ok, root = pcall(function() return tree:path() end)
    if ok and type(root) == "string" then
      file = root .. "/" .. path
    else
      local bytes, err = tree:read(path)
      if not bytes then return nil, err end
      tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(bytes)
      f:close()
      file = tmp
    end
    local c, err = chart.load(file)
    if tmp then os.remove(tmp) end
    if not c then return nil, err end
    local meta = {name = c:name(), version = c:version()}
    c:close()
    return meta
  end
  local text, err = tree:read(path .. "/Chart.yaml")
  if not text then return nil, err end
  local v, derr = yaml.decode(text, {name = path .. "/Chart.yaml"})
  if type(v) ~= "table" then return nil, derr or (path .. "/Chart.yaml is not a map") end
  local version = math.type(v.version) and tostring(v.version) or v.version
  if type(version) ~= "string" then
    return nil, path .. "/Chart.yaml has no version (a string, e.g. version: 1.2.3)"
  end
  return {name = type(v.name) == "string" and v.name or path:match("[^/]+$"), version = version}
end

-- Renders the bundle's chart for the site with values_for and the site's
-- Kubernetes version. Returns the manifests as kedge.chart's render gives
-- them (a list of {source=, text=, kind=, hook=, test=, crd=, value=}, in
-- install order), with these fields added, or nil, err (and, as select,
-- err as an error value when it names a place):
--   bundle, release, namespace, chart = {name=, version=, path=}, values
--   (what the chart got), objects (the plain Kubernetes objects to apply:
--   no hooks; CRDs first, as Helm installs them) with sources[i] naming
--   the template of objects[i], hooks (hook objects other than tests) and
--   tests (helm.sh/hook: test objects).
-- opts: kube_version (instead of the site's), api_versions,
-- api_versions_only (they replace Helm's default set), is_upgrade,
-- include_crds (default true), lookup (Helm's lookup against a live
-- cluster: kedge.kube's client:lookup(); without it an empty map, as
-- helm template gives).
function M.render(repo, s, b, opts)
  s, b = resolve(repo, s, b)
  opts = opts or {}
  local c, err = load_chart_of(repo, b, opts)
  if not c then return fail_at(b.doc, "chart", "%s", err) end
  local values, verr = M.values_for(repo, s, b, opts)
  if not values then
    c:close()
    return fail_at(b.doc, "values", "bundle %s for site %s: %s", b.name, s.name, verr)
  end
  local ms, rerr = c:render(values, {release = b.release, namespace = b.namespace,
    kube_version = opts.kube_version or s.kube_version, api_versions = opts.api_versions,
    api_versions_only = opts.api_versions_only, is_upgrade = opts.is_upgrade,
    include_crds = opts.include_crds ~= false, numbers = "float", lookup = opts.lookup})
  local cname, cversion = c:name(), c:version()
  c:close()
  if not ms then
    return fail_at(b.doc, "chart", "chart %s for site %s: %s", b.chart, s.name, rerr)
  end
  ms.bundle, ms.release, ms.namespace = b.name, b.release, b.namespace
  ms.chart = {name = cname, version = cversion, path = b.chart}
  ms.values = values
  ms.objects, ms.sources, ms.hooks, ms.tests = {}, {}, {}, {}
  for _, m in ipairs(ms) do
    local docs = m.value
    if type(docs) ~= "table" or kedge.is_null(docs) then
      docs = {}
    elseif docs.kind ~= nil or docs[1] == nil then
      docs = {docs}
    end
    for _, o in ipairs(docs) do
      if type(o) == "table" and not kedge.is_null(o) and next(o) ~= nil then
        if m.test then
          ms.tests[#ms.tests + 1] = o
        elseif m.hook then
          ms.hooks[#ms.hooks + 1] = o
        else
          ms.objects[#ms.objects + 1] = o
          ms.sources[#ms.sources + 1] = m.source
        end
      end
    end
  end
  local n = #ms.objects
  local ok, serr = secret_objects(repo, b, opts, ms.objects)
  if not ok then return fail_at(b.doc, "secrets", "bundle %s for site %s: %s", b.name, s.name, serr) end
  for i = n + 1, #ms.objects do ms.sources[i] = "secrets" end
  -- what the pass keeps off the disk: the bundle holds decrypted data
  ms.secret = (b.values_layers or #b.secrets > 0 or s.secrets_file) and opts.decrypt and true or nil
  return ms
end

------------------------------------------------------------------------
-- trees

-- A plain folder (a checkout, a USB stick) as a tree: read, list, path;
-- paths stay inside it (no "..", no symlinks that lead out).
function M.dir_tree(path)
  assert(type(path) == "string", "site.dir_tree: give a folder path")
  return require("kedge.git").open_dir(path)
end

-- A revision of a git.store (a checkout's history, the state directory's
-- mirror) as a tree: read and list, no path() (nothing is on disk).
function M.store_tree(store, rev)
  return {
    read = function(_, path) return store:read(rev, path) end,
    list = function(_, dir) return store:list(rev, dir or "") end,
    close = function() end,
  }
end

return M
