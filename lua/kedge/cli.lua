-- kedge.cli: the command line. One table (M.commands) declares every
-- command: its name, summary, usage line, description, flags and handler;
-- the parser, `kedge --help`, `kedge help CMD`, `kedge CMD --help`, the
-- one-line error hints and README's command table (`kedge help
-- --markdown`) are all made from it. core/main.c only makes the Lua state
-- and calls main(argv); its result is the exit status.
--
-- A flag: {name=, short=, type=, arg=, key=, value=, default=, env=,
-- help=, default_help=, hidden=, aliases={{name, deprecated=true}},
-- min=, max=, comma=, examples=, choices=, once=, short_only=}. Types: bool (no value; `value`
-- is what it stores, default true), string, seconds (a number from min to
-- max), duration (kedge.duration: 300, 90s, 10m), choice (one of
-- choices), list (repeatable; with comma=true "a,b" adds both) and
-- refused (always an error: help says why). key is where the value goes
-- in the options table (default: the name with "-" as "_").
-- A handler: {module, function} called as module[function](o, args, cmd),
-- loaded only when the command runs; it returns the exit code.
local core = require "kedge.core"
local kedge = require "kedge"
local git = require "kedge.git"
local limits = require "kedge.limits"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2}

-- The state directory: one default, one variable, for every command.
M.STATE_DIR_ENV = "KEDGE_STATE_DIR"
M.DEFAULT_STATE_DIR = git.DEFAULT_STATE
-- One rule for --lock-timeout, wherever a command takes a lock: the most
-- kedge.os.lock waits (KD_LIMIT_FS_LOCK_WAIT_S).
M.LOCK_TIMEOUT_MAX = limits.fs_lock_wait_s

-- ---- flag groups shared by several commands ----

local function state_dir(default)
  return {name = "state-dir", arg = "DIR", env = M.STATE_DIR_ENV, default = default,
    aliases = {{"state", deprecated = true}},
    help = "the state directory: the synced repo, its lock, state.json, the inventories, the outbox"}
end

local LOCK_TIMEOUT = {name = "lock-timeout", type = "seconds", arg = "SEC", default = 60,
  min = 0, max = M.LOCK_TIMEOUT_MAX,
  help = "wait this long for another kedge holding the state directory (0: fail at once)"}

local REPO = {name = "repo", arg = "URL", help = "https://host/path, ssh://user@host[:port]/path, " ..
  "user@host:path, file:///path or a local path"}
local REF = {name = "ref", arg = "REF", help = "a branch, a tag, a 40-hex commit id, or " ..
  "semver:RANGE (the highest tag in the range, e.g. 'semver:^1.2')"}

-- How to reach and trust the config repo: kedge sync's, and the pass's
-- (which also pushes status branches with them).
local GIT = {
  {name = "ca-file", arg = "FILE", help = "trusted CAs for HTTPS",
    default_help = "the system bundle"},
  {name = "token-file", arg = "FILE", help = "bearer token for HTTPS (sync: or $KEDGE_GIT_TOKEN)"},
  {name = "username", arg = "NAME", help = "with --password-file: HTTP basic auth"},
  {name = "password-file", arg = "FILE", help = "the basic auth password (sync: or $KEDGE_GIT_PASSWORD)"},
  {name = "ssh-key", arg = "FILE", help = "SSH private key (ECDSA: libssh2 with mbedTLS signs " ..
    "with nothing else)"},
  {name = "ssh-key-passphrase-file", arg = "FILE", help = "the SSH key's passphrase"},
  {name = "known-hosts", arg = "FILE", help = "OpenSSH known_hosts pinning the server's host key " ..
    "(required for SSH; no trust on first use)"},
  {name = "trust-new-host", type = "bool", help = "...unless asked for: a host missing from the " ..
    "file is added to it (with a warning); a mismatch still fails"},
  {name = "verify", type = "choice", arg = "MODE", choices = {"off", "head", "tag"},
    help = "off (default), head (the commit must carry a trusted SSH signature) or tag " ..
    "(the annotated tag must)"},
  {name = "trusted-keys", arg = "FILE", help = "OpenSSH allowed-signers file (ssh-keygen -Y verify's)"},
  {name = "token", type = "refused", hidden = true, help = "secrets are never taken from the " ..
    "command line (ps shows it); use a file (--token-file, --password-file) or " ..
    "KEDGE_GIT_TOKEN / KEDGE_GIT_PASSWORD"},
  {name = "password", type = "refused", hidden = true, help = "secrets are never taken from the " ..
    "command line (ps shows it); use a file (--token-file, --password-file) or " ..
    "KEDGE_GIT_TOKEN / KEDGE_GIT_PASSWORD"},
}

local PROGRESS = {
  {name = "progress", type = "bool", help = "progress lines on stderr",
    default_help = "when stderr is a terminal"},
  {name = "no-progress", type = "bool", key = "progress", value = false, help = "none"},
}

local IDENTITY = {name = "identity", arg = "FILE", env = "KEDGE_IDENTITY",
  help = "the site's age identity: decrypts .age values and secrets in memory",
  default_help = "/etc/kedge/identity when it exists"}

local PASS_REPO = {
  {name = "site", arg = "NAME", env = "KEDGE_SITE", help = "the site (sites/NAME.yaml)",
    default_help = "$KEDGE_SITE, else the host name up to its first dot"},
  {name = "repo", arg = "URL|PATH", help = "fetch the config repo first (as kedge sync); " ..
    "without it, the revision the state directory serves"},
  {name = "ref", arg = "REF", default_help = "main", help = "branch, tag, commit or semver:RANGE"},
  state_dir(M.DEFAULT_STATE_DIR),
}

-- Where remote charts come from (kedge.charts, kedge.oci).
local REGISTRY = {
  {name = "registry-config", arg = "FILE", help = "credentials for chart repositories and " ..
    "registries (auth.json format: {\"auths\": {HOST: {\"auth\": base64(user:password)}}})",
    default_help = "$REGISTRY_AUTH_FILE, then ~/.docker/config.json"},
  {name = "registry-ca", arg = "FILE", help = "trusted CAs for chart repositories and registries",
    default_help = "the system bundle"},
  {name = "insecure-registry", type = "list", arg = "HOST", help = "allow plain HTTP to HOST[:PORT] " ..
    "(repeatable; 127.0.0.0/8 always may)"},
}

-- Where the image preflight looks for the images a site needs
-- (kedge.preflight: the site's images: {require: present}).
local IMAGES = {
  {name = "containerd-socket", arg = "PATH", help = "containerd's socket: its k8s.io namespace holds " ..
    "the node's images", default_help = "/run/k3s/containerd/containerd.sock when it exists, else " ..
    "/run/containerd/containerd.sock"},
  {name = "pack", arg = "DIR", help = "the pack the site was installed from: its images/ OCI layout " ..
    "counts as present"},
}

local KUBECONFIG = {name = "kubeconfig", arg = "FILE", help = "the kubeconfig",
  default_help = "KUBECONFIG, then /etc/rancher/k3s/k3s.yaml, ~/.kube/config, in-cluster"}
local CONTEXT = {name = "context", arg = "NAME", help = "a context other than current-context"}

local PASS_KUBE = {
  KUBECONFIG, CONTEXT,
  {name = "timeout", type = "duration", arg = "DURATION", help = "a deadline for every API request"},
}

local function hide(flags)
  local out = {}
  for i, f in ipairs(flags) do
    local c = {}
    for k, v in pairs(f) do c[k] = v end
    c.hidden = true
    out[i] = c
  end
  return out
end

local WAIT = {name = "wait", type = "duration", arg = "DURATION", default_help = "300s",
  help = "readiness timeout per bundle (0: do not wait)"}

local IGNORE_WINDOWS = {name = "ignore-windows", type = "bool",
  help = "an emergency: change bundles outside their deployment windows (logged and reported)"}

-- The release policy's overrides of a pass (kedge.gates).
local ALLOW_DOWNGRADE = {name = "allow-downgrade", type = "bool",
  help = "let a bundle move to a lower chart version than its last good one"}

local POLICY_BUNDLE = {name = "bundle", arg = "B", help = "one bundle",
  default_help = "every bundle of the site"}

local PASS_EXIT = "Exit codes: 0 ok, 1 failed, 2 bad command line, 10 (plan) changes\n" ..
  "pending, 20 budget refused (nothing applied), 21 apply failed, 22 smoke\n" ..
  "test failed, 23 report not delivered (kept in the outbox), 24 images\n" ..
  "missing on the node (nothing applied; images: {require: present}).\n"

local KUBE_CONN = {
  KUBECONFIG, CONTEXT,
  {name = "namespace", short = "n", arg = "NS", help = "for namespaced objects without one",
    default_help = "the context's namespace, else default"},
  {name = "bundle", arg = "NAME", help = "label the objects kedge.io/bundle=NAME and record them " ..
    "in the inventory ConfigMap kedge-system/kedge-inventory-NAME (and STATE_DIR/inventory/NAME.json)"},
  {name = "prune", type = "bool", help = "(needs --bundle) delete what NAME's last apply had and " ..
    "this one lacks, only after this one applied"},
  {name = "force", type = "bool", help = "take over fields another field manager owns"},
  {name = "field-manager", arg = "M", help = "the server-side apply field manager",
    default_help = "kedge"},
  state_dir(nil),
  {name = "timeout", type = "duration", arg = "DURATION", examples = "120, 90s, 5m or 1h",
    help = "a deadline for every API request of the command"},
}

local FILENAME = {name = "filename", short = "f", type = "list", arg = "PATH", key = "files",
  help = "a file, a folder or '-' (repeatable)"}

local function kube_version()
  return require("kedge.site").DEFAULT_KUBE_VERSION
end

-- ---- the command table ----

M.commands = {
  {name = "version", summary = "print kedge's version and the linked libraries' versions",
    usage = "version [--json]",
    description = "Prints kedge's version and commit, then the version of every library\n" ..
      "linked into the binary (Lua, libgit2, mbedTLS, libyaml, zlib, libssh2,\n" ..
      "http-parser, libsodium).",
    flags = {{name = "json", type = "bool", help = "one JSON object instead of lines"}},
    run = {"kedge.cli.basic", "version"}, max_args = 0},
  {name = "lua", summary = "run Lua with kedge's Lua library",
    usage = "lua [-e CODE] [FILE | -] [ARGS...]",
    description = "Runs a Lua 5.4 script (or CODE given with -e) with kedge's library\n" ..
      "available through require: kedge, kedge.yaml, kedge.json, kedge.log,\n" ..
      "kedge.sandbox. The script sees its arguments in `arg` and as `...`.\n" ..
      "Errors print a traceback and exit with status 1. '-' reads the script\n" ..
      "from standard input; options end at the script (or at --).",
    footer = "Example:\n" ..
      "  kedge lua -e 'local y = require \"kedge.yaml\"; print(y.encode(y.decode(\"a: 1\")))'\n",
    flags = {{name = "e", short_only = true, once = true, arg = "CODE", key = "code",
      help = "run CODE instead of a file (remaining ARGS go to `arg`)"}},
    stop_at_args = true, run = {"kedge.cli.basic", "lua"}},
  {name = "sync", summary = "fetch, verify and check out the config repo",
    usage = "sync --repo URL --ref REF [--state-dir DIR] [options]",
    description = "Fetches the config repo into DIR's bare mirror (only new objects; an\n" ..
      "unchanged repo costs one ref advertisement), resolves REF, verifies its\n" ..
      "signature, checks its tree out into DIR/rev/<commit>/ (atomically) and\n" ..
      "points DIR/current at it. Prints '<commit> <tree folder>'.",
    flags = {REPO, REF, state_dir(M.DEFAULT_STATE_DIR), GIT, LOCK_TIMEOUT,
      {name = "timeout", type = "seconds", arg = "SEC", default = 900, min = 0, max = 86400,
        help = "give up on the whole sync, lock wait included, after SEC seconds (0: never)"},
      PROGRESS},
    footer = "Secrets are read from files or the environment, never from the command line.\n" ..
      "\n" ..
      "Exit codes: 0 synced; 1 failed (nothing changed); 2 bad command line;\n" ..
      "3 the new commit failed verification (the last verified one is still\n" ..
      "served, the refusal is in DIR/status.json); 4 another sync holds DIR.\n",
    run = {"kedge.cli.sync", "run"}, max_args = 0},
  {name = "apply-manifests", summary = "server-side apply Kubernetes manifests, prune, wait",
    usage = "apply-manifests -f FILE|DIR [-f ...] [--bundle NAME] [--prune] [--wait TIMEOUT] [options]",
    description = "Applies the objects in FILE (YAML, many documents; '-' is stdin) or in\n" ..
      "DIR's *.yaml, *.yml and *.json files with server-side apply (field\n" ..
      "manager kedge): Namespaces and CRDs first (waiting until Established),\n" ..
      "then Helm's install order. Nothing is applied when a manifest is invalid\n" ..
      "or names a kind the server does not serve.",
    flags = {FILENAME,
      {name = "wait", type = "duration", arg = "TIMEOUT", examples = "120, 90s, 5m or 1h",
        help = "then wait until every object is ready; a timeout names each object and why"},
      KUBE_CONN},
    footer = "Exit codes: 0 applied (and ready), 1 failed (connection, API error,\n" ..
      "conflict, prune error), 2 bad command line, 3 invalid manifests (nothing\n" ..
      "applied), 4 applied but not ready within TIMEOUT.\n",
    run = {"kedge.kubecli", "apply"}, max_args = 0},
  {name = "plan-manifests", summary = "show what apply-manifests would change (server dry run)",
    usage = "plan-manifests -f FILE|DIR [-f ...] [--bundle NAME] [--prune] [options]",
    description = "Server-side applies the objects with dryRun=All and prints, per object,\n" ..
      "what would be created or changed, field by field (managedFields, status\n" ..
      "and server-set metadata left out; server defaults appear on both sides).\n" ..
      "With --bundle and --prune, also what would be pruned. Changes nothing.",
    flags = {FILENAME, KUBE_CONN},
    footer = "Exit codes: 0 nothing would change, 1 failed, 2 bad command line,\n" ..
      "3 invalid manifests, 5 changes would be made.\n",
    run = {"kedge.kubecli", "plan"}, max_args = 0},
  {name = "render", summary = "render a Helm chart as `helm template` does",
    usage = "render [NAME] CHART [flags]",
    description = "Renders the chart (a directory or a .tgz) with its subcharts and prints\n" ..
      "the manifests exactly as `helm template` (Helm v3.15) prints them. NAME\n" ..
      "is the release name (default \"release-name\").",
    flags = {
      {name = "values", short = "f", type = "list", comma = true, arg = "FILE",
        help = "values file (repeatable; later files win)"},
      {name = "set", type = "list", arg = "K=V", help = "set values (a.b=1,c[0]=x; repeatable)"},
      {name = "set-string", type = "list", arg = "K=V", help = "the same, every value a string"},
      {name = "set-json", type = "list", arg = "K=JSON", help = "the same, values in JSON"},
      {name = "set-file", type = "list", arg = "K=PATH", help = "the value is the content of PATH"},
      {name = "set-literal", type = "list", arg = "K=V", help = "the value taken literally (no splitting)"},
      {name = "namespace", short = "n", arg = "NS", default = "default", help = ".Release.Namespace"},
      {name = "name-template", arg = "TPL", help = "the release name from a template"},
      {name = "kube-version", arg = "V", help = ".Capabilities.KubeVersion",
        default_help = function() return "v" .. kube_version() end},
      {name = "api-versions", short = "a", type = "list", comma = true, arg = "LIST",
        help = "extra .Capabilities.APIVersions (repeatable)"},
      {name = "is-upgrade", type = "bool", help = ".Release.IsUpgrade true, IsInstall false"},
      {name = "include-crds", type = "bool", help = "print the charts' crds/ files first"},
      {name = "skip-crds", type = "bool", key = "include_crds", value = false,
        help = "do not print them (the default)"},
      {name = "skip-tests", type = "bool", help = "leave out test hooks"},
      {name = "no-hooks", type = "bool", help = "leave out every hook"},
      {name = "show-only", short = "s", type = "list", arg = "PATH",
        help = "only templates matching PATH (repeatable)"},
      {name = "generate-name", short = "g", type = "bool", help = "accepted for helm compatibility"},
    },
    footer = "Values combine as in Helm: the charts' values.yaml, then -f files in\n" ..
      "order, then --set-json, --set, --set-string, --set-file and\n" ..
      "--set-literal. helm template flags that need a cluster or a chart\n" ..
      "repository (--validate, --repo, --version, --dependency-update,\n" ..
      "--output-dir, --post-renderer) are not supported.\n" ..
      "\n" ..
      "Exit codes: 0 rendered, 1 the chart, its values or a template failed\n" ..
      "(the message names chart, file and line), 2 bad command line.\n",
    run = {"kedge.cli.render", "run"}, max_args = 2},
  {name = "plan", summary = "show what a pass would change on the site (changes nothing)",
    usage = "plan [--site NAME] [--repo URL|PATH --ref REF] [options]",
    description = "Syncs the config repo, loads it, selects the site's bundles, renders\n" ..
      "them, checks the resource budget and server-side dry-runs every object,\n" ..
      "printing what would be created, changed (field by field) and pruned.\n" ..
      "Changes nothing on the cluster.",
    flags = {PASS_REPO, GIT, PASS_KUBE, IDENTITY, REGISTRY, IMAGES, PROGRESS, IGNORE_WINDOWS,
      ALLOW_DOWNGRADE, hide{WAIT, LOCK_TIMEOUT}},
    footer = PASS_EXIT, run = {"kedge.passcli", "plan"}, max_args = 0},
  {name = "apply", summary = "run the whole pass: sync, render, budget, apply, smoke, report",
    usage = "apply [--site NAME] [--repo URL|PATH --ref REF] [options]",
    description = "One reconcile pass: sync, load, select, render, budget (refuses the\n" ..
      "whole pass before anything is touched), apply each bundle in dependsOn\n" ..
      "order (server-side apply, prune, wait until ready), its smoke tests,\n" ..
      "record the last good commit per bundle (a failed bundle is rolled back\n" ..
      "to its last good revision), and the report: written to the outbox,\n" ..
      "then delivered to the site's destinations. The site's `recipe:` runs\n" ..
      "instead of the built-in one, in the sandbox.",
    flags = {PASS_REPO, GIT, PASS_KUBE, IDENTITY, REGISTRY, IMAGES, PROGRESS, WAIT,
      {name = "no-deliver", type = "bool", help = "leave the report in the outbox"},
      IGNORE_WINDOWS, ALLOW_DOWNGRADE, LOCK_TIMEOUT},
    footer = PASS_EXIT, run = {"kedge.passcli", "apply"}, max_args = 0},
  {name = "budget", summary = "print the site's resource budget table",
    usage = "budget [--site NAME] [--repo PATH | --repo URL --ref REF] [--state-dir DIR]",
    description = "Renders the bundles selected for the site and prints, per bundle and\n" ..
      "dimension, what they request and are limited to against the site's\n" ..
      "capacity minus its reserve, with the shortfall. Needs no cluster.\n" ..
      "--repo PATH without --ref reads a plain checkout (uncommitted changes\n" ..
      "included); without --repo, the revision the state directory serves.",
    flags = {PASS_REPO, GIT, IDENTITY, REGISTRY, PROGRESS, hide(PASS_KUBE), hide{WAIT, LOCK_TIMEOUT}},
    footer = "Exit codes: 0 fits, 1 failed, 2 bad command line, 20 does not fit.\n",
    run = {"kedge.passcli", "budget"}, max_args = 0},
  {name = "report", summary = "show the pass reports, send the outbox, collect a stick's reports",
    usage = "report list|show [ID]|send [--site NAME] [--state-dir DIR] | report collect DIR [--repo URL|PATH]",
    description = "  list, show   the reports in STATE_DIR's outbox (show ID: one report's JSON)\n" ..
      "  send         deliver what the outbox holds to the site's destinations\n" ..
      "               (from the served revision's sites/NAME.yaml)\n" ..
      "  collect DIR  back upstream with a stick: deliver every report on it\n" ..
      "               (DIR/reports/SITE/*.json, as kedge bootstrap writes them) to\n" ..
      "               its site's webhooks and status branches (sites/SITE.yaml of\n" ..
      "               --repo; dir: destinations are left out), each once: markers\n" ..
      "               beside the reports say where each went, so a second collect\n" ..
      "               sends nothing. Every site on the stick, or --site's only;\n" ..
      "               a file that is no readable report of its folder's site is\n" ..
      "               named and skipped.",
    flags = {PASS_REPO, GIT, PROGRESS, hide(PASS_KUBE), hide{WAIT, LOCK_TIMEOUT}},
    footer = "Exit codes: 0 ok (collect: every report delivered, now or before), 1 failed\n" ..
      "(collect: a report skipped, or a site unknown or without an upstream\n" ..
      "destination), 2 bad command line, 23 not delivered (kept; run it again).\n",
    run = {"kedge.passcli", "report"}},
  {name = "check", summary = "check a config repo without a cluster (for its CI)",
    usage = "check [--site NAME | --all-sites] [--repo PATH] [--base REF] [--images] [--json]",
    description = function()
      return "Checks a config repo the way a pass would, without a cluster or a state\n" ..
      "directory, so the repo's CI can refuse a change before it merges: loads\n" ..
      "kedge.yaml, sites/*.yaml and bundles/*/bundle.yaml with their values\n" ..
      "files and validates them (unknown keys, wrong types, a site file named\n" ..
      "differently from its site, bad label selectors, dependsOn naming a\n" ..
      "missing bundle or making a cycle, missing charts and recipes); then, for\n" ..
      "each site, selects its bundles in dependsOn order and renders each\n" ..
      "chart with the site's values and Kubernetes version (kubeVersion of the\n" ..
      "site, else of kedge.yaml, else " .. kube_version() .. "), values.schema.json included,\n" ..
      "and holds what they request against the site's capacity minus its\n" ..
      "reserve (kedge budget's table; a site that does not fit is a problem).\n" ..
      "Every problem is printed on stderr as FILE:LINE:COL: what is wrong and\n" ..
      "how to fix it; one line per site on stdout, and under it each bundle\n" ..
      "a pass would hold now by the repo's pauses and deployment windows\n" ..
      "(held now: BUNDLE (GATE): why until when; not a problem). Writes\n" ..
      "nothing (remote charts are fetched into memory, or into --state-dir's\n" ..
      "chart cache)."
    end,
    flags = {
      {name = "identity", arg = "FILE", help = "decrypt the .age files and render fully (without it: " ..
        "rendered without them, and each is checked to be encrypted to its sites' recipients)"},
      {name = "repo", arg = "PATH", default = ".", help = "the config repo: a plain checkout"},
      {name = "site", arg = "NAME", help = "check this site only"},
      {name = "all-sites", type = "bool", key = "all", help = "check every site (the default)"},
      {name = "state-dir", arg = "DIR", help = "keep fetched remote charts in DIR's chart cache " ..
        "(and use it when their repository is unreachable)", default_help = "fetched into memory only"},
      REGISTRY,
      {name = "base", arg = "REF", help = "also compare the charts with REF (a commit, branch or " ..
        "tag of the checkout): a chart changed without a version bump, or whose version went down, " ..
        "is a problem"},
      {name = "images", type = "bool", help = "also list, per site, every container image its " ..
        "rendered bundles need (containers, initContainers, ephemeralContainers and extraImages, " ..
        "normalised as containerd names them): what a pack for the site must carry"},
      {name = "json", type = "bool", help = "print one JSON object: {ok, repo, sites: [{name, ok, " ..
        "kube_version, bundles: [{name, chart, version, objects}], problems, images: [{ref, " ..
        "digest, bundles}] (--images)}], problems: [{file, line, col, message, site}], warnings}"},
    },
    footer = "Exit codes: 0 no problems, 1 problems found (each named by file and\n" ..
      "line), 2 bad command line or no such --repo folder.\n",
    run = {"kedge.checkcli", "main"}, max_args = 0},
  {name = "agent", summary = "keep the site in the repo's state, unattended (pull mode)",
    usage = "agent [--config FILE] [--once] [options] | agent install|uninstall [--root DIR]",
    description = "The pull-mode agent of an edge node. Reads its config (default\n" ..
      "/etc/kedge/agent.yaml), then ticks: a cheap remote check of the ref\n" ..
      "(one ref advertisement, no fetch when it did not move), and a whole pass\n" ..
      "(as kedge apply) only when the commit moved, the last pass failed (with\n" ..
      "exponential backoff), a report waits in the outbox, or the drift\n" ..
      "interval elapsed (live objects someone else changed are re-applied).\n" ..
      "Each tick runs in a child process; between ticks the agent sleeps.\n" ..
      "Its state is STATE_DIR/agent.json (kedge status prints it).\n" ..
      "Signals: TERM/INT stop (a running pass may finish), HUP re-reads the\n" ..
      "config, USR1 ticks now. Every config key can be given as a flag.\n" ..
      "  install    write the systemd unit kedge-agent.service (and the config\n" ..
      "             when absent) under --root (default /)\n" ..
      "  uninstall  remove the unit; the config and the state stay",
    flags = {
      {name = "config", arg = "FILE", env = "KEDGE_CONFIG", help = "the agent's config",
        default_help = "/etc/kedge/agent.yaml"},
      {name = "once", type = "bool", help = "run one tick and exit with its code (for cron and tests)"},
      {name = "root", arg = "DIR", help = "install/uninstall: the root folder to write under",
        default_help = "/"},
      {name = "tick-child", type = "bool", hidden = true, help = "one tick, as the agent's child"},
      PASS_REPO[1], PASS_REPO[2], PASS_REPO[3], state_dir(nil), GIT, KUBECONFIG, CONTEXT,
      {name = "interval", arg = "DURATION", help = "between ticks", default_help = "5m"},
      {name = "jitter", arg = "DURATION", help = "random extra wait", default_help = "10% of interval"},
      {name = "drift-interval", arg = "DURATION", help = "between drift checks (0s: none)",
        default_help = "15m"},
      {name = "backoff-initial", arg = "DURATION", help = "wait after a first failure",
        default_help = "interval"},
      {name = "backoff-max", arg = "DURATION", help = "longest wait after failures", default_help = "1h"},
      {name = "metrics-textfile", arg = "PATH", help = "write Prometheus metrics to PATH (.prom)"},
      {name = "metrics-listen", arg = "HOST:PORT", help = "serve GET /metrics (e.g. 127.0.0.1:9101)"},
      {name = "identity", arg = "FILE", help = "the site's age identity"},
      IGNORE_WINDOWS,
      ALLOW_DOWNGRADE,
      REGISTRY,
      IMAGES,
    },
    footer = "Exit codes: 0 stopped cleanly (--once: the tick's code, as kedge apply's);\n" ..
      "1 the config is missing or invalid (--once, install); 2 bad command line.\n",
    run = {"kedge.cli.agent", "run"}, max_args = 1},
  {name = "status", summary = "show what the agent on this node is doing",
    usage = "status [--config FILE | --state-dir DIR] [--json]",
    description = "Prints STATE_DIR/agent.json for a person: whether the agent runs, the\n" ..
      "site, the commit and its age, each bundle's version and state, the last\n" ..
      "tick and pass, the last error and the outbox backlog; then the bundles\n" ..
      "paused here (kedge pause, kedge rollback): who paused them, when and why.",
    flags = {
      {name = "config", arg = "FILE", env = "KEDGE_CONFIG", help = "read the state dir from this config",
        default_help = "/etc/kedge/agent.yaml"},
      state_dir(nil),
      {name = "json", type = "bool", help = "agent.json with the bundles and the outbox, as JSON"},
    },
    footer = "Exit codes: 0 the agent runs and its last tick succeeded; 1 it failed or\n" ..
      "is not running; 2 bad command line; 3 no agent state in the state dir.\n",
    run = {"kedge.cli.agent", "status"}, max_args = 0},
  {name = "pause", summary = "pause the site, or one bundle, here (kedge resume lifts it)",
    usage = "pause [--bundle B] --reason TEXT [--site NAME] [--state-dir DIR]",
    description = "Pauses the site's bundle B (without --bundle: every bundle of the site)\n" ..
      "in the state directory (STATE_DIR/paused.json, with who, when and why):\n" ..
      "passes and the agent neither update nor drift-correct it until `kedge\n" ..
      "resume`. The report and `kedge status` say who paused it and why. A\n" ..
      "pause for the whole fleet belongs in the repo: paused: true, reason:.",
    flags = {POLICY_BUNDLE,
      {name = "reason", arg = "TEXT", help = "why, and who to ask (required)"},
      PASS_REPO[1], state_dir(M.DEFAULT_STATE_DIR)},
    footer = "Exit codes: 0 paused, 1 failed, 2 bad command line.\n",
    run = {"kedge.cli.policy", "pause"}, max_args = 0},
  {name = "resume", summary = "lift what kedge pause (or kedge rollback) paused here",
    usage = "resume [--bundle B] [--site NAME] [--state-dir DIR]",
    description = "Lifts the local pause of bundle B (without --bundle: the site's own\n" ..
      "and every bundle's); the next pass moves them on. Pauses in the repo\n" ..
      "stay until the repo lifts them.",
    flags = {POLICY_BUNDLE, PASS_REPO[1], state_dir(M.DEFAULT_STATE_DIR)},
    footer = "Exit codes: 0 done (also when nothing was paused), 1 failed, 2 bad command line.\n",
    run = {"kedge.cli.policy", "resume"}, max_args = 0},
  {name = "rollback", summary = "go back to an earlier good revision, offline, and pause there",
    usage = "rollback [--bundle B] [--to previous|COMMIT] [--site NAME] [options]",
    description = "Restores bundle B (without --bundle: every bundle of the site) from the\n" ..
      "state directory alone, with no network: the good revision before the\n" ..
      "current one (--to previous, the default) or the named earlier good\n" ..
      "commit, re-rendered from that commit's tree (kept by kedge sync, else\n" ..
      "read from the mirror's objects) and applied (pruning what it lacks).\n" ..
      "state.json then names it as the bundle's good revision, and the bundle\n" ..
      "is paused here so the agent does not roll it forward again: `kedge\n" ..
      "resume --bundle B` lets it move. Without --bundle, a bundle with no such\n" ..
      "revision stays as it is. state.json keeps each bundle's last good\n" ..
      "revisions (limits.h: KD_LIMIT_GOOD_HISTORY).",
    flags = {POLICY_BUNDLE,
      {name = "to", arg = "previous|COMMIT", default_help = "previous",
        help = "the good revision to restore: the one before the current, or a commit id (a prefix)"},
      PASS_REPO[1], state_dir(M.DEFAULT_STATE_DIR), PASS_KUBE, IDENTITY, WAIT, LOCK_TIMEOUT},
    footer = "Exit codes: 0 rolled back and paused, 1 failed (no such good revision,\n" ..
      "its tree is gone, the apply failed), 2 bad command line.\n",
    run = {"kedge.cli.policy", "rollback"}, max_args = 0},
  {name = "keygen", summary = "make an age identity (a site's key) and print its recipient",
    usage = "keygen [-o FILE]",
    description = "Writes a new X25519 identity in age-keygen's format (# created, # public\n" ..
      "key, AGE-SECRET-KEY-1...) to FILE (mode 0600; an existing file is never\n" ..
      "replaced) and prints its recipient (age1...) on stderr; without -o, all\n" ..
      "of it goes to stdout. Put the recipient in the site file's recipients:.",
    flags = {{name = "output", short = "o", arg = "FILE", help = "the identity file"}},
    footer = "Exit codes: 0 written, 1 failed, 2 bad command line.\n",
    run = {"kedge.cli.age", "keygen"}, max_args = 0},
  {name = "encrypt", summary = "encrypt a file to sites or recipients (age format)",
    usage = "encrypt [-r RECIPIENT ...] [-R FILE ...] [--site S ...] [-a] [-o OUT] FILE",
    description = "Encrypts FILE (- for stdin) in the age format to every recipient given:\n" ..
      "age1... and ssh-ed25519 keys (-r), files of them (-R), and with --site\n" ..
      "the site file's recipients plus kedge.yaml's (from --repo). Writes\n" ..
      "FILE.age (or OUT, - for stdout) atomically. kedge adds a kedge-hint\n" ..
      "stanza per X25519 recipient (4 bytes of the recipient's SHA-256) so that\n" ..
      "kedge check can tell without a key that a file is encrypted to a site;\n" ..
      "age and other tools ignore it.",
    flags = {
      {name = "recipient", short = "r", type = "list", arg = "RECIPIENT", help = "an age1 or ssh-ed25519 public key"},
      {name = "recipients-file", short = "R", type = "list", arg = "FILE", help = "a file of recipients, one per line"},
      {name = "site", type = "list", arg = "NAME", help = "the recipients of this site (sites/NAME.yaml)"},
      {name = "repo", arg = "PATH", default = ".", help = "the config repo, for --site"},
      {name = "armor", short = "a", type = "bool", help = "ASCII armor (-----BEGIN AGE ENCRYPTED FILE-----)"},
      {name = "output", short = "o", arg = "OUT", help = "where to write", default_help = "FILE.age"},
      {name = "force", type = "bool", help = "replace OUT when it exists"},
    },
    footer = "Exit codes: 0 written, 1 failed, 2 bad command line.\n",
    run = {"kedge.cli.age", "encrypt"}, max_args = 1},
  {name = "decrypt", summary = "decrypt an age file",
    usage = "decrypt -i IDENTITY [-o OUT] FILE",
    description = "Decrypts FILE (binary or armored; - for stdin) with the identities given\n" ..
      "(AGE-SECRET-KEY-1 files, or an unencrypted OpenSSH ed25519 key) to stdout\n" ..
      "or OUT. Nothing is written unless the whole file authenticates.\n" ..
      "Passphrase (scrypt) files are refused.",
    flags = {
      {name = "identity", short = "i", type = "list", arg = "FILE", help = "an identity file"},
      {name = "output", short = "o", arg = "OUT", help = "where to write (mode 0600)", default_help = "stdout"},
    },
    footer = "Exit codes: 0 decrypted, 1 failed (no identity matched, altered or\n" ..
      "truncated file: named), 2 bad command line.\n",
    run = {"kedge.cli.age", "decrypt"}, max_args = 1},
  {name = "rekey", summary = "re-encrypt the repo's .age files to the recipients they should have",
    usage = "rekey -i IDENTITY [--repo PATH] [--dry-run]",
    description = "For every .age file of the checkout: the recipients of every site that\n" ..
      "uses it (its bundles' values and secrets, sites/NAME.secrets.yaml.age)\n" ..
      "plus kedge.yaml's recipients. A file encrypted to exactly those is left\n" ..
      "alone; any other is decrypted with IDENTITY in memory and encrypted\n" ..
      "anew (armored if it was), replaced atomically. Run it after a site's\n" ..
      "key rotates or a site starts using a file, then commit the result.",
    flags = {
      {name = "identity", short = "i", arg = "FILE", help = "a key every file is encrypted to " ..
        "(the operations team's, in kedge.yaml's recipients)"},
      {name = "repo", arg = "PATH", default = ".", help = "the config repo: a plain checkout"},
      {name = "dry-run", type = "bool", help = "say which files would change; write nothing"},
    },
    footer = "Exit codes: 0 done, 1 a file could not be rekeyed (named), 2 bad command line.\n",
    run = {"kedge.cli.rekey", "main"}, max_args = 0},
  {name = "fleet", summary = "the state of every site, from the config repo and its status branches",
    usage = "fleet status --repo URL|PATH [--ref REF] [--site GLOB] [--bundle B] [--stale DURATION] [--json] [--html FILE]",
    description = "Joins the desired state (the repo at REF: each site's bundles and their\n" ..
      "chart versions) with the newest report each site pushed to its status\n" ..
      "branch (kedge/status/<site>). One line per site: the report's age, its\n" ..
      "commit (current, behind by N, ahead), the result, the failing bundle and\n" ..
      "its first error; then a summary and, per bundle, the versions wanted\n" ..
      "and running. A site is stale when its report is older than --stale\n" ..
      "(default: 3 times the larger of the agent's interval and drift interval\n" ..
      "the report names, else 45m). A folder is read in place (nothing\n" ..
      "written); a URL is synced into the state directory first.",
    flags = {
      {name = "repo", arg = "URL|PATH", help = "the config repo: a URL, or a folder holding a git repository"},
      {name = "ref", arg = "REF", default = "main", help = "the desired state's branch, tag or commit"},
      {name = "site", arg = "GLOB", help = "only the sites whose names match (* and ?)"},
      {name = "bundle", arg = "NAME", help = "only the sites that want or run this bundle"},
      {name = "stale", type = "duration", arg = "DURATION", help = "a report older than this is stale"},
      {name = "json", type = "bool", help = "the whole model as JSON on stdout"},
      {name = "html", arg = "FILE", help = "also write a self-contained HTML dashboard (no network needed to view it)"},
      state_dir(nil), GIT, PROGRESS,
    },
    footer = "Exit codes: 0 every site ok; 1 some site failing (or the fleet could not\n" ..
      "be read); 2 bad command line; 3 none failing but some stale or never\n" ..
      "reported.\n",
    run = {"kedge.cli.fleet", "main"}},
  {name = "rollout", summary = "where each bundle's staged rollout (waves) stands",
    usage = "rollout status --repo URL|PATH [--ref REF] [--bundle B] [--json] [--at TIME]",
    description = "For every bundle with rollout: in its bundle.yaml, the revision rolling\n" ..
      "out (the commit REF names), each wave's sites with their state (done,\n" ..
      "soaking, applying, failed, waiting on health, halted, not yet) and when\n" ..
      "the next wave opens, decided as each site's wave gate decides it: from\n" ..
      "the repo, the clock and the reports on the status branches\n" ..
      "(kedge/status/<site>). --at answers for another time, to plan ahead.\n" ..
      "A folder is read in place (nothing written); a URL is synced into the\n" ..
      "state directory first.",
    flags = {
      {name = "repo", arg = "URL|PATH", help = "the config repo: a URL, or a folder holding a git repository"},
      {name = "ref", arg = "REF", default = "main", help = "the branch, tag or commit rolling out"},
      {name = "bundle", arg = "NAME", help = "only this bundle"},
      {name = "json", type = "bool", help = "the answer as JSON on stdout"},
      {name = "at", arg = "TIME", help = "decide at this RFC 3339 time", default_help = "now"},
      state_dir(nil), GIT, PROGRESS,
    },
    footer = "Exit codes: 0 no rollout is halted; 1 some rollout is halted (a failure\n" ..
      "beyond its health gate), or the repo could not be read; 2 bad command\n" ..
      "line.\n",
    run = {"kedge.cli.rollout", "main"}},
  {name = "health", summary = "judge objects with Argo CD health.lua scripts",
    usage = "health [--scripts DIR] [--json] FILE...",
    description = "Runs the health script of each object in the YAML or JSON FILEs (every\n" ..
      "document; a List's items; '-' reads stdin): DIR/<group>/<Kind>/health.lua\n" ..
      "(DIR/<Kind>/ for the core group; an '_' in a folder name matches any\n" ..
      "text without '/'), as Argo CD runs them: the object as `obj`, in a\n" ..
      "sandbox with an instruction, memory and 1-second limit. Prints each\n" ..
      "object's status (Healthy, Progressing, Degraded, Suspended, Missing,\n" ..
      "Unknown) and message; a script that fails gives Unknown with its error.\n" ..
      "An object with no script is listed as having none.",
    flags = {
      {name = "scripts", arg = "DIR", default = "health",
        help = "the scripts folder (a config repo's health/)"},
      {name = "json", type = "bool", help = "one JSON object a line per input object"},
    },
    footer = "Exit codes: 0 every object that has a script is Healthy; 1 some object is\n" ..
      "not, a script failed, or a FILE could not be read; 2 bad command line.\n",
    run = {"kedge.cli.health", "main"}},
  {name = "pack", summary = "make, verify or list a signed pack for offline sites (USB, mirror)",
    usage = "pack create OUT [--repo URL|PATH --ref REF] [--site S ... | --all-sites] [options] | " ..
      "pack verify DIR|FILE.tar --trusted-keys FILE | pack ls DIR",
    description = "  create  syncs the config repo (verified as kedge sync does), renders every\n" ..
      "          bundle of the sites (default: all) and writes OUT: the repo at that\n" ..
      "          commit as a bare repo (OUT/repo.git, signatures intact), the remote\n" ..
      "          charts (OUT/charts/sha256/), the images the objects and extraImages\n" ..
      "          name, pulled by digest for each platform (an OCI layout, OUT/images/,\n" ..
      "          each blob once), kedge for each platform (OUT/bin/), and\n" ..
      "          OUT/MANIFEST listing every file with its size and sha256, signed\n" ..
      "          with --sign-key into OUT/MANIFEST.sig (ssh-keygen -Y sign -n\n" ..
      "          kedge-pack's format). Made in OUT.tmp.<pid>, then renamed; an\n" ..
      "          interrupted create is resumed by the next, keeping finished files.\n" ..
      "  verify  checks MANIFEST.sig against the allowed signers, then every file's\n" ..
      "          size and sha256, and that no file is there that MANIFEST lacks\n" ..
      "  ls      prints what MANIFEST says (without verifying it)",
    flags = {
      {name = "repo", arg = "URL|PATH", help = "the config repo to pack (as kedge sync's --repo)",
        default_help = "what the state directory serves"},
      {name = "ref", arg = "REF", help = "a branch, tag, commit or semver:RANGE", default_help = "main"},
      {name = "site", type = "list", arg = "S", help = "pack for this site (repeatable)"},
      {name = "all-sites", type = "bool", help = "pack for every site (the default)"},
      {name = "platform", type = "list", comma = true, arg = "LIST",
        help = "linux/amd64, linux/arm64 or both, comma-separated", default_help = "the running one"},
      {name = "sign-key", arg = "KEY", help = "sign MANIFEST with this unencrypted OpenSSH ed25519 " ..
        "private key (ssh-keygen -t ed25519 -N '' -f KEY)"},
      {name = "kedge-binary", type = "list", arg = "FILE", help = "the kedge to pack for FILE's " ..
        "platform (its ELF machine decides; repeatable)",
        default_help = "the running binary; build/arm64/kedge next to it for arm64"},
      {name = "tar", type = "bool", help = "write one file, OUT.tar, instead of a folder"},
      {name = "state-dir", arg = "DIR", env = M.STATE_DIR_ENV, help = "where the repo's mirror and " ..
        "the chart cache are kept between creates", default_help = "~/.cache/kedge/pack-state"},
      GIT, REGISTRY,
      {name = "fingerprint", arg = "SHA256:...", help = "verify: trust the key with this fingerprint " ..
        "(ssh-keygen -l -f KEY.pub) instead of --trusted-keys"},
      {name = "allow-unsigned", type = "bool", help = "verify: check the files of an unsigned pack"},
      {name = "json", type = "bool", help = "ls: MANIFEST as JSON"},
      PROGRESS, hide{LOCK_TIMEOUT},
    },
    footer = "--trusted-keys is an OpenSSH allowed-signers file: 'PRINCIPAL namespaces=\"kedge-pack\"\n" ..
      "ssh-ed25519 AAAA...' (the same file may hold the keys that sign commits).\n" ..
      "\n" ..
      "Exit codes: 0 done; 1 failed (create: the repo, a chart or a write; OUT is\n" ..
      "not written); 2 bad command line; 3 verify refused the pack (bad or missing\n" ..
      "signature, a file changed, missing, truncated or not listed: named).\n",
    run = {"kedge.cli.pack", "pack"}, max_args = 2},
  {name = "bootstrap", summary = "install a verified pack on a fresh node and run one pass",
    usage = "bootstrap DIR [--site S] [--root /] [--trusted-keys FILE | --fingerprint SHA256:...] [--dry-run]",
    description = "On a fresh node, as root: verifies the pack in DIR (a folder or a .tar:\n" ..
      "its signature and every file, as kedge pack verify) before using\n" ..
      "anything, then installs it step by step, each step atomic and skipped\n" ..
      "when the node holds its result already: kedge as ROOT/usr/local/bin/kedge,\n" ..
      "the pack's repo.git as STATE_DIR/pack/repo.git, the allowed signers (when\n" ..
      "the commit was verified), the remote charts into the chart cache, the\n" ..
      "images into k3s's agent/images folder and containerd's k8s.io namespace,\n" ..
      "agent's config and unit (kedge agent install's; the repo is the site's\n" ..
      "upstream when the pack came from a URL, else the copy), then one pass\n" ..
      "(kedge apply by the installed binary, from the copy). The report, the\n" ..
      "pass's output and kedge status go to DIR/reports/SITE/. A second run\n" ..
      "changes nothing and says so.",
    flags = {
      {name = "site", arg = "NAME", help = "the site to install", default_help = "the pack's only site, " ..
        "else $KEDGE_SITE, else the host name up to its first dot"},
      {name = "root", arg = "DIR", help = "the root folder to install under", default_help = "/"},
      {name = "state-dir", arg = "DIR", help = "the state directory (a path on the node, under ROOT)",
        default_help = M.DEFAULT_STATE_DIR},
      {name = "config", arg = "FILE", help = "the agent's config (a path on the node)",
        default_help = "/etc/kedge/agent.yaml"},
      {name = "trusted-keys", arg = "FILE", help = "allowed signers for MANIFEST.sig (and, installed, " ..
        "for the agent's commit verification)"},
      {name = "fingerprint", arg = "SHA256:...", help = "trust the key with this fingerprint instead"},
      {name = "allow-unsigned", type = "bool", help = "use a pack without a checked signature (reported)"},
      {name = "dry-run", type = "bool", help = "print every step; change nothing"},
      {name = "offline", type = "bool", help = "point the agent at the pack's copy even when the pack " ..
        "came from a URL"},
      {name = "containerd-socket", arg = "PATH", help = "import the pack's images through this " ..
        "containerd socket", default_help = "k3s's or containerd's under ROOT, when there"},
      {name = "snapshotter", arg = "NAME", help = "containerd's snapshotter for the import",
        default_help = "containerd's (overlayfs)"},
      KUBECONFIG, CONTEXT, WAIT, PROGRESS,
    },
    footer = "Exit codes: 0 installed and the pass succeeded (or nothing to do); 1 failed\n" ..
      "(the steps before are done; a rerun finishes); 2 bad command line;\n" ..
      "3 refused: the pack failed verification or is for another site\n" ..
      "(nothing changed); 4 installed, but no kubeconfig: the pass did not run;\n" ..
      "5 installed, the pass failed (DIR/reports/SITE/pass.log).\n",
    run = {"kedge.cli.pack", "bootstrap"}, max_args = 1},
  {name = "help", summary = "show help for kedge or one command",
    usage = "help [COMMAND]",
    description = "Prints kedge's help, or one command's (as `kedge COMMAND --help` does).",
    flags = {{name = "markdown", type = "bool", hidden = true,
      help = "print the command table as README.md's Markdown"}},
    run = {"kedge.cli", "help"}, max_args = 1},
}

M.global_flags = {
  {name = "log-level", arg = "LEVEL", help = "debug, info (default), warn, error or off"},
  {name = "log-format", arg = "FORMAT", help = "text (default) or json: one JSON object per line"},
  {name = "help", short = "h", type = "bool", help = "show this help; 'kedge help COMMAND' for a command"},
  {name = "version", type = "bool", hidden = true, help = "as kedge version"},
}

-- ---- flags: lookup and parsing ----

-- The flag groups of a command, flattened, in order.
local function flat(flags, out)
  out = out or {}
  for _, f in ipairs(flags or {}) do
    if f.name then out[#out + 1] = f else flat(f, out) end
  end
  return out
end

function M.flags(cmd)
  if not cmd._flat then cmd._flat = flat(cmd.flags) end
  return cmd._flat
end

local function key_of(f)
  return f.key or f.name:gsub("-", "_")
end

function M.commands_by_name()
  if not M._by_name then
    M._by_name = {}
    for _, c in ipairs(M.commands) do M._by_name[c.name] = c end
  end
  return M._by_name
end

local distance = kedge.edit_distance

-- The closest of names to word, when it is close enough to be a typo.
function M.suggest(word, names)
  local best, bestd
  for _, n in ipairs(names) do
    local d = distance(word, n)
    if (d <= 2 or (#word >= 3 and n:sub(1, #word) == word)) and (not bestd or d < bestd) then
      best, bestd = n, d
    end
  end
  return best
end

local function usage_error(cmd, msg)
  io.stderr:write(string.format("kedge: %s (see 'kedge help%s')\n", msg,
    cmd and (" " .. cmd.name) or ""))
  return M.EXIT.usage
end
M.usage_error = usage_error

local function unknown_option(cmd, opt, flags)
  local names = {}
  for _, f in ipairs(flags) do
    if not f.hidden and not f.short_only then names[#names + 1] = "--" .. f.name end
  end
  local s = opt:match("^%-%-") and M.suggest(opt, names)
  return "unknown option '" .. opt .. "'" .. (s and (", did you mean '" .. s .. "'?") or "")
end

local warned = {}

local function convert(f, typed, v)
  if f.type == "seconds" then
    local n = v:match("^%d+%.?%d*$") and tonumber(v)
    if not n or n < f.min or n > f.max then
      return nil, string.format("%s takes seconds (%d to %d), not '%s'", "--" .. f.name,
        f.min, f.max, v)
    end
    return n
  elseif f.type == "duration" then
    local d = kedge.duration(v)
    if not d then
      return nil, string.format("%s needs a duration like %s, not '%s'", typed,
        f.examples or "300, 90s or 10m", v)
    end
    return d
  elseif f.type == "choice" then
    for _, c in ipairs(f.choices) do if c == v then return v end end
    return nil, string.format("%s is %s or %s, not '%s'", typed,
      table.concat(f.choices, ", ", 1, #f.choices - 1), f.choices[#f.choices], v)
  end
  return v
end

-- Parses args against flags. Returns the options table (o.args: the
-- positional arguments) or nil, message.
function M.parse(flags, args, stop_at_args)
  local long, short = {}, {}
  for _, f in ipairs(flags) do
    if f.short_only then short[f.name] = f else long[f.name] = f end
    if f.short then short[f.short] = f end
    for _, a in ipairs(f.aliases or {}) do long[a[1]] = setmetatable({alias = a}, {__index = f}) end
  end
  local o, given, positional = {}, {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      table.move(args, i + 1, #args, #positional + 1, positional)
      break
    elseif a:sub(1, 1) == "-" and #a > 1 then
      local f, typed, inline
      if a:sub(1, 2) == "--" then
        local n, v = a:match("^%-%-([^=]+)=(.*)$")
        typed, inline = n and ("--" .. n) or a, v
        f = long[n or a:sub(3)]
      else
        typed = a
        f = short[a:sub(2)]
      end
      if not f then return nil, unknown_option(nil, typed, flags) end
      if f.alias and f.alias.deprecated and not warned[typed] then
        warned[typed] = true
        io.stderr:write(string.format("kedge: warning: %s is deprecated, use --%s\n", typed, f.name))
      end
      local k = key_of(f)
      if f.once and given[k] then return nil, typed .. " given twice" end
      if f.type == "refused" then
        return nil, typed .. ": " .. f.help
      elseif f.type == "bool" then
        if inline then return nil, typed .. " takes no value" end
        if f.value == nil then o[k] = true else o[k] = f.value end
      else
        local v = inline
        if v == nil then
          i = i + 1
          v = args[i]
        end
        if v == nil then return nil, typed .. " needs a value" end
        if f.type == "list" then
          o[k] = o[k] or {}
          if f.comma then
            for p in v:gmatch("[^,]+") do o[k][#o[k] + 1] = p end
          else
            o[k][#o[k] + 1] = v
          end
        else
          local cv, err = convert(f, typed, v)
          if cv == nil then return nil, err end
          o[k] = cv
        end
      end
      given[k] = true
    elseif stop_at_args then
      table.move(args, i, #args, #positional + 1, positional)
      break
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  for _, f in ipairs(flags) do
    local k = key_of(f)
    if not given[k] and o[k] == nil then
      local e = f.env and os.getenv(f.env)
      if e and e ~= "" then o[k] = e elseif f.default ~= nil then o[k] = f.default end
    end
  end
  o.args = positional
  return o
end

-- ---- help ----

local function text_of(v)
  if type(v) == "function" then return v() end
  return v
end

-- Wraps text to width, the first line after `first` columns, the rest
-- indented by `indent`.
local function wrap(text, first, indent, width)
  local lines, line, col = {}, "", first
  for word in text:gmatch("%S+") do
    if line ~= "" and col + 1 + #word > width then
      lines[#lines + 1] = line
      line, col = word, indent + #word
    else
      line = line == "" and word or (line .. " " .. word)
      col = col + (line == word and 0 or 1) + #word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n" .. string.rep(" ", indent))
end

local function flag_help(f)
  local h = f.help
  local d = text_of(f.default_help)
  if not d and f.type ~= "bool" then
    if f.env and f.default ~= nil then
      d = "$" .. f.env .. ", else " .. tostring(f.default)
    elseif f.env then
      d = "$" .. f.env
    elseif f.default ~= nil then
      d = tostring(f.default)
    end
  end
  if f.type == "seconds" then h = h .. string.format("; %d to %d", f.min, f.max) end
  if d then h = h .. " (default " .. d .. ")" end
  return h
end

local function flag_lines(flags)
  local out = {}
  for _, f in ipairs(flags) do
    if not f.hidden then
      local left = (f.short_only and ("-" .. f.name)) or
        ((f.short and ("-" .. f.short .. ", ") or "    ") .. "--" .. f.name)
      if f.arg then left = left .. " " .. f.arg end
      left = "  " .. left
      local col = 30
      if #left + 2 > col then
        out[#out + 1] = left .. "\n" .. string.rep(" ", col) .. wrap(flag_help(f), col, col, 79)
      else
        out[#out + 1] = left .. string.rep(" ", col - #left) .. wrap(flag_help(f), col, col, 79)
      end
    end
  end
  return table.concat(out, "\n")
end

function M.command_help(cmd)
  local parts = {"usage: kedge " .. cmd.usage .. "\n"}
  local d = text_of(cmd.description)
  if d then parts[#parts + 1] = "\n" .. d .. "\n" end
  local fl = flag_lines(M.flags(cmd))
  if fl ~= "" then parts[#parts + 1] = "\n" .. fl .. "\n" end
  if cmd.footer then parts[#parts + 1] = "\n" .. cmd.footer end
  return table.concat(parts)
end

function M.main_help()
  local list = {}
  for _, c in ipairs(M.commands) do
    list[#list + 1] = string.format("  %-16s %s", c.name, c.summary)
  end
  return "usage: kedge [global options] <command> [options]\n" ..
    "\n" ..
    "kedge keeps an edge Kubernetes site in the state its Git config repo\n" ..
    "describes: it pulls the repo, renders Helm charts, checks resource\n" ..
    "budgets, applies, runs smoke tests and reports upstream.\n" ..
    "\n" ..
    "Commands:\n" .. table.concat(list, "\n") .. "\n" ..
    "\n" ..
    "Global options:\n" .. flag_lines(M.global_flags) .. "\n" ..
    "\n" ..
    "Exit codes: 0 success, 1 the command failed, 2 bad command line.\n"
end

-- README.md's command table ("### Command line"), one row per command.
function M.markdown()
  local rows = {"| command | what it does |", "| --- | --- |"}
  for _, c in ipairs(M.commands) do
    rows[#rows + 1] = string.format("| `kedge %s` | %s |", c.usage:gsub("|", "\\|"), c.summary)
  end
  return table.concat(rows, "\n") .. "\n"
end

-- kedge help [COMMAND] [--markdown]
function M.help(o, args)
  if o.markdown then
    io.write(M.markdown())
    return M.EXIT.ok
  end
  if #args == 0 then
    io.write(M.main_help())
    return M.EXIT.ok
  end
  local c = M.commands_by_name()[args[1]]
  if not c then return usage_error(nil, "unknown command '" .. args[1] .. "'") end
  io.write(M.command_help(c))
  return M.EXIT.ok
end

-- ---- main ----

local function unknown_command(name)
  local names = {}
  for _, c in ipairs(M.commands) do names[#names + 1] = c.name end
  local s = M.suggest(name, names)
  return usage_error(nil, "unknown command '" .. name .. "'" ..
    (s and (", did you mean '" .. s .. "'?") or ""))
end

-- Runs one command on its arguments (after the command name).
function M.run(cmd, args)
  if args[1] == "-h" or args[1] == "--help" then
    io.write(M.command_help(cmd))
    return M.EXIT.ok
  end
  local o, err = M.parse(M.flags(cmd), args, cmd.stop_at_args)
  if not o then return usage_error(cmd, err) end
  o.argv = args
  if cmd.max_args and #o.args > cmd.max_args then
    return usage_error(cmd, "unexpected argument '" .. o.args[cmd.max_args + 1] .. "'")
  end
  local mod = require(cmd.run[1])
  return mod[cmd.run[2]](o, o.args, cmd)
end

function M.main(argv)
  local level, format
  local i = 1
  while i <= #argv and argv[i]:sub(1, 1) == "-" do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      io.write(M.main_help())
      return M.EXIT.ok
    elseif a == "--version" then
      return M.run(M.commands_by_name().version, {})
    elseif a ~= "--log-level" and a ~= "--log-format" then
      local s = a:match("^%-%-") and M.suggest(a, {"--log-level", "--log-format", "--help"})
      return usage_error(nil, "unknown option '" .. a .. "'" ..
        (s and (", did you mean '" .. s .. "'?") or ""))
    end
    if argv[i + 1] == nil then return usage_error(nil, a .. " needs a value") end
    if a == "--log-level" then level = argv[i + 1] else format = argv[i + 1] end
    i = i + 2
  end
  local ok, err = core.log_setup(level, format)
  if not ok then return usage_error(nil, err) end
  if i > #argv then
    io.stderr:write(M.main_help())
    return M.EXIT.usage
  end
  local cmd = M.commands_by_name()[argv[i]]
  if not cmd then return unknown_command(argv[i]) end
  return M.run(cmd, table.move(argv, i + 1, #argv, 1, {}))
end

return M
