-- The dashboard's script (kedge.fleethtml). It reads the model from the
-- fleet-data element and builds the page with DOM calls and textContent
-- only: a report is a site's own words and may hold any text. The sites
-- table is virtual: only the rows in view (and a margin) exist, redrawn on
-- scroll in an animation frame, so 5,000 sites cost a screenful of nodes.
return [==[
(function () {
"use strict";
var parsed = JSON.parse(document.getElementById("fleet-data").textContent);
var data = parsed.head;
data.sites = parsed.sites;
data.unknown_sites = parsed.unknown_sites;
// a site's wanted bundles: an index into the distinct lists
function wantedOf(s) {
  var w = s.desired && arr(parsed.wants)[Number(s.desired.want) - 1];
  return arr(w);
}
var ROW_H = 28, MARGIN = 15;
var STATE_RANK = {failing: 0, stale: 1, never: 2, unknown: 3, ok: 4};
var rows = [], shown = [], filter = {state: "", bundle: "", labels: [], text: ""};
var sort = {key: "state", dir: 1}, selected = null, drawQueued = false;

// ---- small helpers --------------------------------------------------------
function $(id) { return document.getElementById(id); }
function arr(v) { return Array.isArray(v) ? v : []; }
function obj(v) { return v && typeof v === "object" && !Array.isArray(v) ? v : {}; }
function str(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
// el("td", {class: "x", text: "..."}, [children]): attributes set one by one
function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") e.textContent = str(attrs[k]);
    else if (k === "class") e.className = attrs[k];
    else e.setAttribute(k, str(attrs[k]));
  });
  arr(kids).forEach(function (c) { e.appendChild(typeof c === "object" ? c : document.createTextNode(str(c))); });
  return e;
}
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
function age(sec) {
  if (typeof sec !== "number") return "-";
  if (sec < 120) return sec + "s";
  if (sec < 7200) return Math.floor(sec / 60) + "m";
  if (sec < 172800) return Math.floor(sec / 3600) + "h";
  return Math.floor(sec / 86400) + "d";
}
function when(t) {
  if (typeof t !== "number") return "-";
  return new Date(t * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}
function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

// ---- one site, as the table shows it ---------------------------------------
function commitText(s) {
  var c = s.report && s.report.commit;
  if (!c) return "-";
  var r = obj(s.commit), rel = "unknown";
  if (r.state === "current") rel = "current";
  else if (r.state === "behind" || r.state === "ahead") rel = r.state + " " + r.by;
  else if (r.state === "diverged") rel = "diverged +" + r.ahead + "/-" + r.behind;
  return str(c).slice(0, 8) + " (" + rel + ")";
}
function commitRank(s) {
  var r = obj(s.commit);
  if (!s.report) return 1e9;
  if (r.state === "behind") return 1e6 - Number(r.by || 0);
  return {current: 1e7, ahead: 2e7, diverged: 5e5}[r.state] || 0;
}
function firstLine(v) { return str(v).split("\n")[0]; }
function detailText(s, unknown) {
  var p = [];
  if (unknown) p.push("not in the repo");
  if (s.state === "never") p.push("never reported");
  if (s.state === "stale") p.push("no report for " + age(s.report && s.report.age));
  if (s.report && s.report.result !== "ok") p.push(str(s.report.result));
  if (s.failing_bundle) p.push(str(s.failing_bundle));
  if (s.first_error) p.push(firstLine(s.first_error));
  if (s.degraded) p.push("Degraded " + firstLine(s.degraded));
  arr(s.held).forEach(function (h) { p.push(str(h)); });
  if (s.desired && s.desired.error) p.push("desired state: " + firstLine(s.desired.error));
  return p.join(": ");
}
function makeRow(s, unknown) {
  return {s: s, name: str(s.name), state: unknown ? "unknown" : str(s.state), unknown: unknown,
    age: s.report && typeof s.report.age === "number" ? s.report.age : Infinity,
    commit: commitText(s), nbundles: wantedOf(s).length,
    detail: detailText(s, unknown), search: null};
}
function searchText(r) {
  if (r.search === null) {
    var s = r.s, labels = obj(s.labels);
    var parts = [r.name, r.state, r.commit, r.detail, s.report && s.report.id];
    Object.keys(labels).forEach(function (k) { parts.push(k + "=" + str(labels[k])); });
    r.search = parts.map(str).join("\n").toLowerCase();
  }
  return r.search;
}
function hasBundle(r, name) {
  var d = wantedOf(r.s), g = r.s.report ? arr(r.s.report.bundles) : [];
  return d.some(function (b) { return b && b.name === name; }) || g.some(function (b) { return b && b.name === name; });
}
function labelsMatch(r) {
  var labels = obj(r.s.labels);
  return filter.labels.every(function (l) {
    if (!Object.prototype.hasOwnProperty.call(labels, l.k)) return false;
    return l.v === null || str(labels[l.k]) === l.v;
  });
}
function matches(r) {
  if (filter.state && r.state !== filter.state) return false;
  if (filter.bundle && !hasBundle(r, filter.bundle)) return false;
  if (filter.labels.length && !labelsMatch(r)) return false;
  if (filter.text && searchText(r).indexOf(filter.text) < 0) return false;
  return true;
}

// ---- sorting and filtering ------------------------------------------------
var KEYS = {
  name: function (r) { return r.name; },
  state: function (r) { return STATE_RANK[r.state]; },
  age: function (r) { return r.age; },
  commit: function (r) { return commitRank(r.s); },
  bundles: function (r) { return r.nbundles; },
  detail: function (r) { return r.detail; }
};
function compare(a, b) {
  var f = KEYS[sort.key], x = f(a), y = f(b);
  if (x < y) return -sort.dir;
  if (x > y) return sort.dir;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
function apply() {
  shown = rows.filter(matches);
  shown.sort(compare);
  $("shown-count").textContent = shown.length + " of " + plural(rows.length, "site", "sites") + " shown";
  document.querySelectorAll("#sites th").forEach(function (th) {
    if (th.dataset.sort === sort.key) th.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  });
  document.querySelectorAll(".card[data-filter-state]").forEach(function (c) {
    c.classList.toggle("active", filter.state !== "" && c.dataset.filterState === filter.state);
  });
  $("table-wrap").scrollTop = 0;
  draw();
}
function readFilters() {
  filter.state = $("filter-state").value;
  filter.bundle = $("filter-bundle").value;
  filter.text = $("filter-text").value.trim().toLowerCase();
  filter.labels = $("filter-label").value.split(",").map(function (t) { return t.trim(); })
    .filter(Boolean).map(function (t) {
      var i = t.indexOf("=");
      return i < 0 ? {k: t, v: null} : {k: t.slice(0, i).trim(), v: t.slice(i + 1).trim()};
    });
  apply();
}

// ---- the virtual table -------------------------------------------------------
function pad(h) {
  var td = el("td", {colspan: "6"});
  td.style.height = h + "px";
  return el("tr", {class: "pad", "aria-hidden": "true"}, [td]);
}
function rowNode(r) {
  var tr = el("tr", {class: "site" + (selected === r ? " sel" : ""), "data-site": r.name,
    "data-state": r.state, tabindex: "0"}, [
    el("td", {text: r.name, title: r.name}),
    el("td", {}, [el("span", {class: "st " + r.state, text: r.state})]),
    el("td", {text: age(r.s.report && r.s.report.age)}),
    el("td", {class: "mono", text: r.commit}),
    el("td", {text: r.nbundles}),
    el("td", {text: r.detail, title: r.detail})
  ]);
  tr.addEventListener("click", function () { showDetail(r); });
  tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") showDetail(r); });
  return tr;
}
function draw() {
  drawQueued = false;
  var wrap = $("table-wrap"), body = $("rows");
  var first = Math.max(0, Math.floor(wrap.scrollTop / ROW_H) - MARGIN);
  var last = Math.min(shown.length, first + Math.ceil(wrap.clientHeight / ROW_H) + 2 * MARGIN);
  var frag = document.createDocumentFragment();
  frag.appendChild(pad(first * ROW_H));
  for (var i = first; i < last; i++) frag.appendChild(rowNode(shown[i]));
  frag.appendChild(pad((shown.length - last) * ROW_H));
  clear(body);
  body.appendChild(frag);
}
function queueDraw() {
  if (!drawQueued) { drawQueued = true; requestAnimationFrame(draw); }
}

// ---- the summary and the bundles -------------------------------------------
function fillSummary() {
  var s = obj(data.summary);
  ["sites", "ok", "failing", "stale", "never", "unknown", "skipped"].forEach(function (k) {
    $("count-" + k).textContent = str(s[k] || 0);
  });
  $("meta-repo").textContent = str(data.repo) || "-";
  $("meta-ref").textContent = str(data.ref) || "-";
  $("meta-commit").textContent = str(data.commit).slice(0, 12);
  $("meta-commit").title = str(data.commit);
  $("meta-commit-time").textContent = when(data.commit_time);
  $("meta-generated").textContent = when(data.generated);
  document.title = "kedge fleet: " + str(s.ok || 0) + " ok, " + str(s.failing || 0) + " failing";
}
function countsOf(m) {
  return Object.keys(obj(m)).map(function (v) { return {v: v, n: Number(m[v]) || 0}; })
    .sort(function (a, b) { return b.n - a.n || (a.v < b.v ? -1 : 1); });
}
function versionsText(list) {
  return list.length ? list.map(function (x) { return x.v + " on " + x.n; }).join(", ") : "none";
}
function bundleRow(b, box) {
  var want = countsOf(b.want), run = countsOf(b.running);
  var wanted = {}, total = 0, running = 0;
  want.forEach(function (x) { wanted[x.v] = true; total += x.n; });
  run.forEach(function (x) { running += x.n; });
  total = Math.max(total, running, 1);
  var bar = el("div", {class: "bar", "data-bundle": b.name});
  run.forEach(function (x, i) {
    var seg = el("span", {class: wanted[x.v] ? "wanted" : "other" + (i % 2 ? " alt" : ""),
      title: x.v + " on " + plural(x.n, "site", "sites") + (wanted[x.v] ? " (wanted)" : ""), "data-version": x.v});
    seg.style.width = (100 * x.n / total) + "%";
    bar.appendChild(seg);
  });
  if (total > running) {
    var gap = el("span", {class: "missing", title: plural(total - running, "site", "sites") + " not reporting it"});
    gap.style.width = (100 * (total - running) / total) + "%";
    bar.appendChild(gap);
  }
  var name = el("div", {class: "bname", text: b.name, title: "show the sites with " + str(b.name)});
  name.addEventListener("click", function () { $("filter-bundle").value = str(b.name); readFilters(); });
  var text = "wanted " + versionsText(want) + "; running " + versionsText(run);
  box.appendChild(name);
  box.appendChild(bar);
  box.appendChild(el("div", {class: "legend", text: text, title: text}));
}
function fillBundles() {
  var box = $("bundles"), sel = $("filter-bundle");
  arr(data.bundles).forEach(function (b) {
    bundleRow(b, box);
    sel.appendChild(el("option", {value: b.name, text: b.name}));
  });
  if (!arr(data.bundles).length) box.appendChild(el("div", {text: "no bundles"}));
}
function fillSkipped() {
  var list = arr(data.skipped), ul = $("skipped");
  list.forEach(function (k) {
    k = obj(k);
    ul.appendChild(el("li", {}, [el("span", {class: "mono", text: k.file}), ": " + str(k.reason)]));
  });
  if (data.broken_branches > 0) {
    ul.appendChild(el("li", {text: plural(data.broken_branches, "status branch names", "status branches name") + " no commit"}));
  }
  $("skipped-box").hidden = ul.childNodes.length === 0;
}

// ---- a site's detail --------------------------------------------------------
function table(head, body, id) {
  return el("table", {id: id}, [el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", {text: h}); }))]),
    el("tbody", {}, body)]);
}
function section(title, node) { return [el("h3", {text: title}), node]; }
function bundleJoin(s) {
  var by = {}, order = [];
  function get(n) { n = str(n); if (!by[n]) { by[n] = {name: n}; order.push(n); } return by[n]; }
  wantedOf(s).forEach(function (b) { get(obj(b).name).want = obj(b).version; });
  arr(s.report && s.report.bundles).forEach(function (b) { b = obj(b); get(b.name).got = b; });
  return order.map(function (n) { return by[n]; });
}
function bundleTable(s) {
  var body = bundleJoin(s).map(function (j) {
    var g = j.got || {}, want = j.want === undefined ? "-" : str(j.want), run = j.got ? str(g.version) : "-";
    var changes = j.got ? [g.created, g.updated, g.unchanged, g.pruned].map(function (n) { return str(n || 0); }).join("/") : "";
    return el("tr", {"data-bundle": j.name}, [
      el("td", {text: j.name}), el("td", {class: "mono", text: want}),
      el("td", {class: "mono" + (j.got && j.want !== undefined && run !== str(j.want) ? " diff" : ""), text: run}),
      el("td", {text: j.got ? str(g.status) : (j.want !== undefined ? "not reported" : "")}),
      el("td", {class: "mono", text: changes, title: "created/updated/unchanged/pruned"}),
      el("td", {class: "err", text: arr(g.errors).map(str).join("\n")})
    ]);
  });
  return table(["bundle", "wanted", "running", "status", "c/u/=/p", "errors"], body, "detail-bundles");
}
function smokeTable(s) {
  var body = [];
  arr(s.report && s.report.bundles).forEach(function (b) {
    arr(obj(b).smoke).forEach(function (t) {
      t = obj(t);
      body.push(el("tr", {}, [el("td", {text: b.name}), el("td", {text: t.name}), el("td", {text: t.kind}),
        el("td", {text: t.status}), el("td", {text: t.duration === undefined ? "" : str(t.duration) + "s"}),
        el("td", {class: t.status === "failed" ? "err" : "", text: t.message})]));
    });
  });
  return body.length ? table(["bundle", "test", "kind", "status", "took", "message"], body, "detail-smoke") : null;
}
function facts(pairs, id) {
  var dl = el("dl", {id: id});
  pairs.forEach(function (p) {
    if (p[1] === undefined || p[1] === null || p[1] === "") return;
    dl.appendChild(el("dt", {text: p[0]}));
    dl.appendChild(el("dd", {class: p[2] || "", text: p[1]}));
  });
  return dl;
}
function reportFacts(s) {
  var r = obj(s.report);
  if (!s.report) return el("p", {id: "detail-report", text: "no report on its status branch"});
  return facts([["report", r.id, "mono"], ["result", r.result], ["finished", r.finished],
    ["age", age(r.age)], ["stale after", typeof s.stale_after === "number" ? age(s.stale_after) : ""],
    ["commit", commitText(s), "mono"], ["kedge", r.kedge], ["failing bundle", s.failing_bundle],
    ["first error", s.first_error, "err"], ["degraded", s.degraded, "err"], ["desired state", s.desired && s.desired.error, "err"]], "detail-report");
}
function detailNodes(r) {
  var s = r.s, out = [], labels = obj(s.labels);
  out.push(el("h2", {id: "detail-name", text: r.name}));
  out.push(el("p", {}, [el("span", {class: "st " + r.state, id: "detail-state", text: r.state}),
    " " + (r.unknown ? "a report from a site the repo no longer has" : r.detail)]));
  out = out.concat(section("Labels", facts(Object.keys(labels).sort().map(function (k) { return [k, str(labels[k])]; }),
    "detail-labels")));
  out = out.concat(section("Report", reportFacts(s)));
  if (arr(s.held).length) out = out.concat(section("Held", el("ul", {}, arr(s.held).map(function (h) { return el("li", {text: h}); }))));
  var errs = arr(s.report && s.report.errors);
  if (errs.length) out = out.concat(section("Errors", el("ul", {id: "detail-errors"},
    errs.map(function (e) { return el("li", {class: "err", text: e}); }))));
  out = out.concat(section("Bundles", bundleTable(s)));
  var smoke = smokeTable(s);
  if (smoke) out = out.concat(section("Smoke tests", smoke));
  out = out.concat(section("Report history", el("ol", {id: "detail-history", class: "mono"},
    arr(s.history).map(function (h) { return el("li", {text: h}); }))));
  return out;
}
function showDetail(r) {
  selected = r;
  var body = $("detail-body");
  clear(body);
  detailNodes(r).forEach(function (n) { body.appendChild(n); });
  $("detail").hidden = false;
  $("detail").dataset.site = r.name;
  $("detail").scrollTop = 0;
  queueDraw();
}
function hideDetail() {
  selected = null;
  $("detail").hidden = true;
  queueDraw();
}

// ---- wiring -------------------------------------------------------------------
function debounce(f, ms) {
  var t = null;
  return function () { clearTimeout(t); t = setTimeout(f, ms); };
}
function wire() {
  var later = debounce(readFilters, 120);
  $("filter-text").addEventListener("input", later);
  $("filter-label").addEventListener("input", later);
  $("filter-state").addEventListener("change", readFilters);
  $("filter-bundle").addEventListener("change", readFilters);
  document.querySelectorAll(".card[data-filter-state]").forEach(function (c) {
    c.addEventListener("click", function () {
      var st = c.dataset.filterState;
      $("filter-state").value = filter.state === st ? "" : st;
      readFilters();
    });
  });
  document.querySelectorAll("#sites th").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.dataset.sort;
      sort = {key: k, dir: sort.key === k ? -sort.dir : 1};
      apply();
    });
  });
  $("table-wrap").addEventListener("scroll", queueDraw);
  window.addEventListener("resize", queueDraw);
  $("detail-close").addEventListener("click", hideDetail);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") hideDetail(); });
}

fillSummary();
arr(data.sites).forEach(function (s) { rows.push(makeRow(obj(s), false)); });
arr(data.unknown_sites).forEach(function (s) { rows.push(makeRow(obj(s), true)); });
fillBundles();
fillSkipped();
wire();
apply();
document.body.dataset.ready = "1";
// when the page was built, for whoever measures it (the bench reads it)
if (window.performance && performance.mark) performance.mark("fleet-ready");
})();
]==]
