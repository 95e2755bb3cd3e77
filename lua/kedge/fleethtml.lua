-- kedge.fleethtml: the fleet dashboard, one self-contained HTML file made
-- from kedge.fleet's model (kedge fleet status --html FILE).
--
--   local html = require("kedge.fleethtml").render(model)
--   local page = require("kedge.fleethtml").new()  -- or a site at a time:
--   page.site(entry, "sites"); ...; local html = page.finish(model)
--
-- The file needs nothing but itself: CSS and JS inline, no fonts, no
-- network, so it opens from a USB stick in a browser that is offline.
-- Nothing from the model is written into the HTML: the model travels as
-- JSON inside <script type="application/json" id="fleet-data"> with < > &
-- escaped (\u003c \u003e \u0026), so no site name, label or error text can
-- close that element, and the page's script builds every node from it with
-- textContent and DOM calls only. The script renders the sites table
-- virtually (only the rows in view), so 5,000 sites stay responsive.
local json = require "kedge.json"
local kedge = require "kedge"
local style = require "kedge.fleethtml.style"
local script = require "kedge.fleethtml.script"

local M = {}

-- ---- the embedded model --------------------------------------------------------
-- The model's reports already keep a lean summary of each bundle
-- (kedge.fleet); the page leaves out empty lists as well. Reports
-- are the sites' words: fields are copied as they are, and the page's
-- script copes with any type.

local list_of = require("kedge.fleet").list_of

local function slim_report(r)
  if not r then return nil end
  return {id = r.id, result = r.result, finished = r.finished, commit = r.commit, age = r.age,
    kedge = r.kedge, errors = list_of(r.errors), bundles = list_of(r.bundles)}
end

-- Most sites want the same bundles at the same versions: each distinct
-- list is written once (wants[]) and a site names its index (from 1).
local function want_index(wants, bundles)
  local key = {}
  for i, b in ipairs(bundles) do key[i] = tostring(b.name) .. "=" .. tostring(b.version) end
  key = table.concat(key, "\n")
  if not wants.index[key] then
    local list = {}
    for i, b in ipairs(bundles) do list[i] = {name = b.name, version = b.version} end
    wants[#wants + 1] = kedge.list(list)
    wants.index[key] = #wants
  end
  return wants.index[key]
end

local function slim_site(e, wants)
  return {name = e.name, state = e.state, labels = e.labels, history = list_of(e.history),
    desired = {want = want_index(wants, e.desired.bundles), error = e.desired.error},
    report = slim_report(e.report), commit = e.commit, failing_bundle = e.failing_bundle,
    first_error = e.first_error, degraded = e.degraded, held = list_of(e.held), stale_after = e.stale_after}
end

-- JSON that is inert inside a script element: escape_html is the whole
-- defence, and checking it is cheap.
local function inert(v)
  local text = assert(json.encode(v, {escape_html = true}))
  assert(not text:find("[<>&]"), "fleethtml: unescaped markup in the embedded JSON")
  return text
end

-- The page's data, a site at a time (kedge.fleet.collect's each): its
-- JSON text is {"sites": [...], "unknown_sites": [...], "wants":
-- [[{name, version}...]...], "head": {...}}, the head last as the summary
-- is known only when every site is in.
local function data_writer(out)
  local w, open, n = {}, nil, 0
  local wants = {index = {}}
  local function switch(key)
    out[#out + 1] = (open and "]," or "{") .. '"' .. key .. '":['
    open, n = key, 0
  end
  function w.site(e, key)
    if key ~= open then
      if key == "unknown_sites" and not open then switch("sites") end
      switch(key)
    end
    out[#out + 1] = (n > 0 and "," or "") .. inert(slim_site(e, wants))
    n = n + 1
  end
  function w.finish(m)
    if not open then switch("sites") end
    if open == "sites" then switch("unknown_sites") end
    wants.index = nil
    out[#out + 1] = '],"wants":' .. inert(kedge.list(wants)) .. ',"head":'
    out[#out + 1] = inert{repo = m.repo, ref = m.ref, commit = m.commit, commit_time = m.commit_time,
      generated = m.generated, summary = m.summary, bundles = m.bundles,
      skipped = m.skipped, broken_branches = m.broken_branches}
    out[#out + 1] = "}"
  end
  return w
end

-- ---- the page -----------------------------------------------------------------
-- Static markup only: every text from the model is filled in by the script.

local BODY = [==[
<header>
  <h1>kedge fleet</h1>
  <div class="meta">
    <span>repo <b id="meta-repo"></b></span>
    <span>ref <b id="meta-ref"></b></span>
    <span>desired <b id="meta-commit"></b></span>
    <span>committed <b id="meta-commit-time"></b></span>
    <span>generated <b id="meta-generated"></b></span>
  </div>
</header>
<main>
  <section id="summary" class="cards" aria-label="summary">
    <button class="card" data-filter-state="" title="every site"><span id="count-sites">0</span>sites</button>
    <button class="card ok" data-filter-state="ok"><span id="count-ok">0</span>ok</button>
    <button class="card failing" data-filter-state="failing"><span id="count-failing">0</span>failing</button>
    <button class="card stale" data-filter-state="stale"><span id="count-stale">0</span>stale</button>
    <button class="card never" data-filter-state="never"><span id="count-never">0</span>never reported</button>
    <button class="card unknown" data-filter-state="unknown" title="reports from sites the repo no longer has"><span id="count-unknown">0</span>unknown sites</button>
    <div class="card skipped" title="reports skipped: corrupt, huge or not kedge reports"><span id="count-skipped">0</span>reports skipped</div>
  </section>
  <section id="bundles-box">
    <h2>Bundles <small>versions running (the wanted one in green)</small></h2>
    <div id="bundles"></div>
  </section>
  <section id="sites-box">
    <div class="filters">
      <label>state <select id="filter-state">
        <option value="">all</option><option value="ok">ok</option><option value="failing">failing</option>
        <option value="stale">stale</option><option value="never">never reported</option>
        <option value="unknown">unknown site</option></select></label>
      <label>bundle <select id="filter-bundle"><option value="">all</option></select></label>
      <label>label <input id="filter-label" type="search" placeholder="key=value,key" size="18"></label>
      <label>text <input id="filter-text" type="search" placeholder="site, error, bundle..." size="24"></label>
      <span id="shown-count"></span>
    </div>
    <div id="table-wrap">
      <table id="sites">
        <colgroup><col class="c-name"><col class="c-state"><col class="c-age"><col class="c-commit"><col class="c-bundles"><col class="c-detail"></colgroup>
        <thead><tr>
          <th data-sort="name">site</th><th data-sort="state">state</th><th data-sort="age">report</th>
          <th data-sort="commit">commit</th><th data-sort="bundles">bundles</th><th data-sort="detail">detail</th>
        </tr></thead>
        <tbody id="rows"></tbody>
      </table>
    </div>
  </section>
  <section id="skipped-box" hidden>
    <h2>Skipped reports</h2>
    <ul id="skipped"></ul>
  </section>
</main>
<aside id="detail" hidden aria-live="polite">
  <button id="detail-close" title="close (Esc)">&#x2715;</button>
  <div id="detail-body"></div>
</aside>
]==]

-- A page to fill: page.site(entry, "sites" | "unknown_sites") per site in
-- the model's order, then page.finish(model) → the HTML text.
function M.new()
  local out = {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    -- no request leaves the page, whatever a later edit adds
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    "<title>kedge fleet</title>\n<style>\n", style, "</style>\n</head>\n<body>\n",
    BODY,
    "<script type=\"application/json\" id=\"fleet-data\">",
  }
  local data = data_writer(out)
  local page = {site = data.site}
  function page.finish(model)
    data.finish(model)
    out[#out + 1] = "</script>\n<script>\n" .. script .. "</script>\n</body>\n</html>\n"
    return table.concat(out)
  end
  return page
end

-- The page of a whole model (its lists filled).
function M.render(model)
  local page = M.new()
  for _, key in ipairs{"sites", "unknown_sites"} do
    for _, e in ipairs(model[key]) do page.site(e, key) end
  end
  return page.finish(model)
end

return M
