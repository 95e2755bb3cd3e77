-- kedge.agent.systemd: `kedge agent install` and `uninstall`, the
-- kedge-agent.service unit (Type=notify: kedge speaks the notify protocol
-- itself, kedge.os.notify) and, when there is none, the agent's config.
-- Everything is written under root (default "/"), so an image can be
-- prepared offline and a test can check what would be installed.
local kos = require "kedge.os"

local M = {}

M.UNIT = "kedge-agent.service"
M.UNIT_DIR = "etc/systemd/system"
M.WATCHDOG = 120 -- seconds; the agent pings twice per period from its loop

-- The unit's text. o: {exe=, config=, state_dir=, writable = {more paths}}.
function M.unit(o)
  local rw = {o.state_dir}
  for _, p in ipairs(o.writable or {}) do rw[#rw + 1] = p end
  return table.concat({
    "# Written by `kedge agent install`; `kedge agent uninstall` removes it.",
    "[Unit]",
    "Description=kedge agent: keeps this site in the state its config repo describes",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=notify",
    "NotifyAccess=main",
    "ExecStart=" .. o.exe .. " agent --config " .. o.config,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=always",
    "RestartSec=5s",
    "WatchdogSec=" .. M.WATCHDOG .. "s",
    -- a pass gets the agent's grace (8 s) plus its own SIGKILL margin
    "TimeoutStopSec=15s",
    "KillMode=mixed",
    "Environment=KEDGE_CONFIG=" .. o.config,
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ReadWritePaths=" .. table.concat(rw, " "),
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures=native",
    "UMask=0077",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    ""}, "\n")
end

local function under(root, path)
  if root == "/" or root == "" then return path end
  return (root:gsub("/+$", "")) .. path
end

local function parent(path) return path:match("^(.*)/[^/]+$") end

local function exists(path) return kos.stat(path) ~= nil end

-- A systemctl daemon-reload, when installing onto the running system and
-- systemd runs it (no output either way; the caller lists what ran).
local function reload(root, ran)
  if root ~= "/" or not exists("/run/systemd/system") then return end
  local proc = require "kedge.proc"
  local r = proc.run{argv = {"systemctl", "daemon-reload"}, timeout = 30}
  if r and r.status == 0 then ran[#ran + 1] = "systemctl daemon-reload" end
end

-- o: {root=, exe=, config=, state_dir=, writable=, config_text=} ->
-- {written = {paths}, kept = {paths}, ran = {commands}} or nil, err.
function M.install(o)
  local root = o.root or "/"
  if root ~= "/" and not exists(root) then return nil, root .. ": no such folder (--root)" end
  local r = {written = {}, kept = {}, ran = {}}
  local unit = under(root, "/" .. M.UNIT_DIR .. "/" .. M.UNIT)
  local ok, err = kos.mkdir(parent(unit), 493)
  if not ok then return nil, "cannot create " .. parent(unit) .. ": " .. tostring(err) end
  ok, err = kos.write_atomic(unit, M.unit(o), 420)
  if not ok then return nil, "cannot write " .. unit .. ": " .. tostring(err) end
  r.written[#r.written + 1] = unit
  local conf = under(root, o.config)
  if exists(conf) then
    r.kept[#r.kept + 1] = conf
  else
    ok, err = kos.mkdir(parent(conf), 493)
    if ok then ok, err = kos.write_atomic(conf, o.config_text, 384) end
    if not ok then return nil, "cannot write " .. conf .. ": " .. tostring(err) end
    r.written[#r.written + 1] = conf
  end
  local state = under(root, o.state_dir)
  ok, err = kos.mkdir(state, 448)
  if not ok then return nil, "cannot create " .. state .. ": " .. tostring(err) end
  reload(root, r.ran)
  return r
end

-- o: {root=} -> {removed = {paths}, ran = {commands}} or nil, err. The
-- config and the state directory stay (a reinstall finds them).
function M.uninstall(o)
  local root = o.root or "/"
  local r = {removed = {}, ran = {}}
  local unit = under(root, "/" .. M.UNIT_DIR .. "/" .. M.UNIT)
  if exists(unit) then
    local ok, err = os.remove(unit)
    if not ok then return nil, "cannot remove " .. unit .. ": " .. tostring(err) end
    r.removed[#r.removed + 1] = unit
  end
  reload(root, r.ran)
  return r
end

return M
