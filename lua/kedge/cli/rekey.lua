-- kedge rekey: re-encrypts every .age file of a config repo checkout to
-- the recipients it should have now: those of every site that uses it,
-- plus kedge.yaml's recipients (the operations team). Run after a site's
-- key rotates or a site starts using a file. Files already encrypted to
-- exactly those recipients are left as they are.
local site = require "kedge.site"
local kos = require "kedge.os"
local limits = require "kedge.limits"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2}

local function say(fmt, ...) io.stderr:write("kedge rekey: ", string.format(fmt, ...), "\n") end

-- Every .age file of the tree (bounded walk), sorted.
local function age_files(tree)
  local out, todo, seen = {}, {""}, 0
  while #todo > 0 do
    local dir = table.remove(todo)
    for _, e in ipairs(tree:list(dir) or {}) do
      seen = seen + 1
      if seen > limits.git_tree_files then return nil, "the repo has more files than kedge reads" end
      local p = dir == "" and e.name or (dir .. "/" .. e.name)
      if e.type == "dir" and e.name ~= ".git" then todo[#todo + 1] = p
      elseif e.type == "file" and p:match("%.age$") then out[#out + 1] = p end
    end
  end
  table.sort(out)
  return out
end

-- file -> the set of recipients it must have (a sorted list), and the
-- sites that use it.
local function wanted(repo)
  local want, users = {}, {}
  for _, name in ipairs(repo.site_names) do
    local s = repo.sites[name]
    for _, f in ipairs(site.secret_files(s, site.select(repo, name) or {})) do
      want[f] = want[f] or {}
      users[f] = users[f] or {}
      for _, r in ipairs(s.recipients) do want[f][r] = true end
      users[f][#users[f] + 1] = name
    end
  end
  return want, users
end

local function sorted(set)
  local out = {}
  for r in pairs(set) do out[#out + 1] = r end
  table.sort(out)
  return out
end

-- Is the file encrypted to exactly these recipients? (A file another tool
-- made cannot be told: it is rewritten.)
local function up_to_date(age, bytes, rs)
  local info = age.inspect(bytes)
  if not info then return false end
  local n = 0
  for _, st in ipairs(info.stanzas) do
    if st.type == "X25519" or st.type == "ssh-ed25519" then n = n + 1 end
  end
  if n ~= #rs then return false end
  for _, r in ipairs(rs) do
    if age.has_recipient(bytes, r) ~= true then return false end
  end
  return true
end

local function rekey_file(age, tree, root, f, rs, ident, dry)
  local bytes, rerr = tree:read(f)
  if not bytes then return nil, rerr end
  if up_to_date(age, bytes, rs) then return "unchanged" end
  if dry then return "would rekey" end
  local plain, derr = age.decrypt(bytes, ident)
  if not plain then return nil, derr end
  local armored = bytes:sub(1, 11) == "-----BEGIN "
  local out, eerr = age.encrypt(plain, rs, {armor = armored})
  if not out then return nil, eerr end
  local ok, werr = kos.write_atomic(root .. "/" .. f, out, 420)
  if not ok then return nil, werr end
  return "rekeyed"
end

function M.main(o)
  if not o.identity then
    say("give -i IDENTITY: a key that decrypts the files (yours, listed in kedge.yaml's recipients)")
    return M.EXIT.usage
  end
  local secrets = require "kedge.secrets"
  local ident, ierr = secrets.read_identity(o.identity)
  if not ident then say("%s", ierr); return M.EXIT.usage end
  local tree, terr = site.dir_tree(o.repo)
  if not tree then say("--repo: %s", terr); return M.EXIT.usage end
  local repo, lerr = site.load(tree)
  if not repo then say("the repo does not load:\n%s", lerr); return M.EXIT.failed end
  local files, ferr = age_files(tree)
  if not files then say("%s", ferr); return M.EXIT.failed end
  local age = require "kedge.age"
  local want, users = wanted(repo)
  local team = repo.settings.recipients or {}
  local changed, failed = 0, 0
  for _, f in ipairs(files) do
    local set = want[f] or {}
    for _, r in ipairs(team) do set[r] = true end
    local rs = sorted(set)
    if #rs == 0 then
      say("%s: no site uses it and kedge.yaml has no recipients; left as it is", f)
    else
      local what, err = rekey_file(age, tree, o.repo, f, rs, ident, o.dry_run)
      if not what then
        failed = failed + 1
        say("%s: %s", f, err)
      else
        if what ~= "unchanged" then changed = changed + 1 end
        print(string.format("%-11s %s (%d recipient%s%s)", what, f, #rs, #rs == 1 and "" or "s",
          users[f] and #users[f] > 0 and ("; sites " .. table.concat(users[f], ", ")) or ""))
      end
    end
  end
  tree:close()
  print(string.format("%d file%s %s, %d failed", changed, changed == 1 and "" or "s",
    o.dry_run and "would change" or "changed", failed))
  return failed > 0 and M.EXIT.failed or M.EXIT.ok
end

return M
