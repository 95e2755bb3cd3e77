-- The dashboard's stylesheet (kedge.fleethtml): system fonts only, rows of
-- one fixed height (the virtual table counts on it: ROW_H in the script).
return [==[
:root { --ok: #1f8a4c; --failing: #c62828; --stale: #b26a00; --never: #6b7280; --unknown: #7c3aed;
  --line: #d9dde3; --bg: #f6f7f9; --ink: #1d2329; --muted: #5b6570; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header { padding: 10px 18px; background: #1d2329; color: #eef1f4; display: flex; flex-wrap: wrap;
  align-items: baseline; gap: 6px 24px; }
header h1 { margin: 0; font-size: 18px; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; color: #aeb7c1; }
.meta b { color: #eef1f4; font-weight: 600; font-family: ui-monospace, Menlo, Consolas, monospace; }
main { padding: 12px 18px; }
h2 { font-size: 15px; margin: 14px 0 6px; }
h2 small { font-weight: normal; color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { font: inherit; border: 1px solid var(--line); border-left: 5px solid var(--ink); background: #fff;
  border-radius: 6px; padding: 6px 14px; min-width: 110px; text-align: left; cursor: pointer; color: var(--muted); }
div.card { cursor: default; }
.card span { display: block; font-size: 24px; font-weight: 700; color: var(--ink); }
.card.ok { border-left-color: var(--ok); } .card.failing { border-left-color: var(--failing); }
.card.stale { border-left-color: var(--stale); } .card.never { border-left-color: var(--never); }
.card.unknown { border-left-color: var(--unknown); } .card.skipped { border-left-color: var(--line); }
.card.active { outline: 2px solid #3b82f6; }
#bundles { display: grid; grid-template-columns: minmax(120px, max-content) minmax(200px, 1fr) minmax(200px, 2fr);
  gap: 4px 12px; align-items: center; background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 12px; max-height: 260px; overflow: auto; }
.bname { font-weight: 600; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.bname:hover { text-decoration: underline; }
.bar { display: flex; height: 16px; border-radius: 3px; overflow: hidden; background: #eceff3; }
.bar span { height: 100%; border-right: 1px solid #fff; min-width: 2px; }
.bar .wanted { background: var(--ok); } .bar .other { background: var(--stale); }
.bar .other.alt { background: #e0a040; } .bar .missing { background: #c7ccd3; }
.legend { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 14px 0 8px; }
.filters label { color: var(--muted); }
.filters input, .filters select { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; }
#shown-count { margin-left: auto; color: var(--muted); }
#table-wrap { height: 62vh; min-height: 240px; overflow: auto; background: #fff; border: 1px solid var(--line);
  border-radius: 6px; }
#sites { width: 100%; border-collapse: collapse; table-layout: fixed; }
#sites th { position: sticky; top: 0; z-index: 1; background: #eef1f4; text-align: left; font-weight: 600;
  padding: 6px 8px; border-bottom: 1px solid var(--line); cursor: pointer; user-select: none; white-space: nowrap; }
#sites th[aria-sort="ascending"]::after { content: " \25B2"; font-size: 10px; }
#sites th[aria-sort="descending"]::after { content: " \25BC"; font-size: 10px; }
#sites td { height: 28px; padding: 0 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
#sites tr.site { cursor: pointer; } #sites tr.site:hover, #sites tr.site.sel { background: #eef5ff; }
#sites tr.pad td { height: auto; padding: 0; border: 0; }
.c-name { width: 18%; } .c-state { width: 9%; } .c-age { width: 7%; } .c-commit { width: 19%; }
.c-bundles { width: 7%; } .c-detail { width: 40%; }
.st { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; background: var(--never); }
.st.ok { background: var(--ok); } .st.failing { background: var(--failing); } .st.stale { background: var(--stale); }
.st.unknown { background: var(--unknown); }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
#detail { position: fixed; top: 0; right: 0; width: min(620px, 100%); height: 100%; overflow: auto; z-index: 5;
  background: #fff; border-left: 1px solid var(--line); box-shadow: -6px 0 18px rgba(0,0,0,.12); padding: 14px 18px; }
#detail-close { position: absolute; top: 10px; right: 12px; font-size: 16px; border: 0; background: none; cursor: pointer; }
#detail h2 { font-size: 18px; margin-top: 0; }
#detail h3 { font-size: 14px; margin: 14px 0 4px; }
#detail table { width: 100%; border-collapse: collapse; font-size: 13px; }
#detail th, #detail td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
#detail td { overflow-wrap: anywhere; }
#detail-bundles td:nth-child(-n+5), #detail-smoke td:nth-child(-n+5) { overflow-wrap: normal; white-space: nowrap; }
#detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; font-size: 13px; }
#detail dt { color: var(--muted); } #detail dd { margin: 0; overflow-wrap: anywhere; }
.err { color: var(--failing); white-space: pre-wrap; overflow-wrap: anywhere; }
.tag { display: inline-block; background: #eef1f4; border-radius: 3px; padding: 0 6px; margin: 0 4px 2px 0; font-size: 12px; }
.diff { color: var(--stale); font-weight: 600; }
#skipped { font-size: 13px; }
]==]
