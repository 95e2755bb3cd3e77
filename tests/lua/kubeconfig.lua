-- kedge.kubeconfig: the client key and the token are kedge.Secret values
-- that never become text: not through tostring, string.format, an error, a
-- log line, JSON, or the messages of a wrong or broken key. Requests with
-- them against a real API server are tests/e2e/t0605-kube-secrets.sh; the
-- wiping itself is tested in C (tests/unit/test_kube.c).
local t = dofile("tests/tap.lua")
local kubeconfig = require "kedge.kubeconfig"
local http = require "kedge.http"
local json = require "kedge.json"
local log = require "kedge.log"
local proc = require "kedge.proc"

local KEDGE = os.getenv("KEDGE") or "build/kedge"
local TOKEN = "tok-kubeconfig-s3cr3t-7c41"
local PASSWORD = "pa55-kubeconfig-s3cr3t-90"

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function sh(cmd)
  return os.execute(cmd .. " >/dev/null 2>&1")
end

-- A key pair made here (openssl), or a stand-in PEM when openssl is absent
-- (then the checks that need a real key are skipped).
local have_openssl = sh("command -v openssl")
local key_pem, cert_pem, other_pem
if have_openssl then
  assert(sh(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
    .. "-keyout %s/key.pem -out %s/crt.pem -subj /CN=kedge-test -days 1", tmp, tmp)))
  assert(sh(string.format("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s/other.pem", tmp)))
  key_pem, cert_pem, other_pem = read(tmp .. "/key.pem"), read(tmp .. "/crt.pem"), read(tmp .. "/other.pem")
else
  key_pem = "-----BEGIN PRIVATE KEY-----\nS0VZLXN0YW5kLWluLXMzY3IzdC1ieXRlcy0xMjM0NTY3OA==\n-----END PRIVATE KEY-----\n"
  cert_pem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
end

local function b64(s)
  write(tmp .. "/b64.in", s)
  assert(os.execute(string.format("base64 -w0 <%s/b64.in >%s/b64.out", tmp, tmp)))
  return read(tmp .. "/b64.out")
end

-- The bytes that must never show: the token, the password, the key's PEM
-- body and its base64 as the kubeconfig holds it.
local key_b64 = b64(key_pem)
local key_body = key_pem:match("\n([^\n-][^\n]+)\n")
local SECRETS = {TOKEN, PASSWORD, key_body, key_b64:sub(20, 60), (b64(other_pem or "x"):sub(20, 60))}

local function leaks(text)
  for _, s in ipairs(SECRETS) do
    if text:find(s, 1, true) then return s end
  end
  return nil
end

local function kubeconfig_text(user)
  return "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
    .. "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
    .. "users:\n- name: u\n  user:\n" .. user
    .. "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
end

local KC = tmp .. "/creds.kubeconfig"
write(KC, kubeconfig_text("    client-certificate-data: " .. b64(cert_pem) .. "\n"
  .. "    client-key-data: " .. key_b64 .. "\n    token: " .. TOKEN .. "\n"))

local cfg = assert(kubeconfig.load{kubeconfig = KC})
t.is(cfg.server, "https://127.0.0.1:1", "load: the server")
t.is(cfg.cert_pem, cert_pem, "load: the certificate is a plain string (it is public)")
t.is(type(cfg.key_pem), "userdata", "load: the client key is a userdata")
t.is(type(cfg.token), "userdata", "load: the token is a userdata")

-- never text
t.is(tostring(cfg.token), "<secret>", "tostring(token) is <secret>")
t.is(tostring(cfg.key_pem), "<secret>", "tostring(key) is <secret>")
t.is(string.format("%s|%s", cfg.token, cfg.key_pem), "<secret>|<secret>", "string.format %s gives <secret>")
local ok, err = pcall(string.format, "%q", cfg.token)
t.ok(not ok and not leaks(tostring(err)), "string.format %q refuses it without the value")
ok, err = pcall(function() return "Bearer " .. cfg.token end)
t.ok(not ok and tostring(err):find("cannot be concatenated") and not leaks(err), "concatenation raises, without the value")
ok, err = pcall(function() return cfg.key_pem .. "" end)
t.ok(not ok and not leaks(tostring(err)), "concatenation on either side")
ok, err = pcall(table.concat, {"a", cfg.token})
t.ok(not ok and not leaks(tostring(err)), "table.concat refuses it")
ok, err = pcall(error, cfg.token)
t.ok(not ok and rawequal(err, cfg.token) and tostring(err) == "<secret>", "error(secret) carries the userdata, which prints as <secret>")
ok, err = pcall(log.info, "connecting", {token = cfg.token})
t.ok(not ok and tostring(err):find("cannot become a value") and not leaks(err), "a log field refuses it, without the value")
ok, err = pcall(json.encode, {token = cfg.token})
t.ok(not ok and not leaks(tostring(err)), "json.encode refuses it, without the value")

-- A whole run: an uncaught error(secret), a log line, a failed request at
-- debug level; nothing of the credentials in stdout or stderr.
local run = assert(proc.run{timeout = 30, argv = {KEDGE, "--log-level", "debug", "lua", "-e", [[
local cfg = assert(require("kedge.kubeconfig").load{kubeconfig = arg[1]})
local log = require "kedge.log"
log.info("loaded", {token = tostring(cfg.token), key = tostring(cfg.key_pem)})
local c, err = require("kedge.kube").connect{kubeconfig = arg[1], attempts = 2, timeout = 1}
print(c and select(2, c:call("GET", "/version")) or err)
error(cfg.token)]], KC}})
t.ok(run.exited and run.status ~= 0, "the run fails (uncaught error)")
t.like(run.output, "INFO +loaded +key=<secret> token=<secret>", "a log line shows <secret>")
t.like(run.output, "<secret>", "the uncaught error shows <secret>")
t.like(run.output, "127%.0%.0%.1:1", "the failed request is reported")
t.is(leaks(run.output), nil, "no credential in the run's output")

-- What kedge refuses says so, without the password or token
local BASIC = tmp .. "/basic.kubeconfig"
write(BASIC, kubeconfig_text("    username: admin\n    password: " .. PASSWORD .. "\n"))
local none, berr = kubeconfig.load{kubeconfig = BASIC}
t.ok(none == nil and berr:find("basic authentication") and not leaks(berr), "basic auth is refused, without the password")
local EXEC = tmp .. "/exec.kubeconfig"
write(EXEC, kubeconfig_text("    exec: {command: get-token, args: ['" .. TOKEN .. "']}\n"))
none, berr = kubeconfig.load{kubeconfig = EXEC}
t.ok(none == nil and berr:find("exec plugin") and not leaks(berr), "an exec plugin is refused, without its arguments")
local BADKEY = tmp .. "/badkey.kubeconfig"
write(BADKEY, kubeconfig_text("    client-certificate-data: " .. b64(cert_pem) .. "\n"
  .. "    client-key-data: '!" .. key_b64 .. "'\n"))
none, berr = kubeconfig.load{kubeconfig = BADKEY}
t.ok(none == nil and berr:find("client%-key%-data is not valid base64") and not leaks(berr), "broken base64 is named, not quoted")

-- The HTTP client reads them in C; a closed secret is refused
local c, cerr = http.client{cert_pem = cfg.cert_pem, key_pem = cfg.key_pem, token = cfg.token, insecure = true}
if have_openssl then
  t.ok(c ~= nil, "http.client takes the key and token as secrets (" .. tostring(cerr) .. ")")
else
  t.ok(c == nil and not leaks(cerr), "http.client: the stand-in key is refused without its bytes # SKIP no openssl")
end
if c then c:close() end
t.raises(function() http.client{key_pem = 42} end, "must be a secret or a string", "key_pem of another type raises")
c = http.client{}
t.raises(function() c:request{url = "http://127.0.0.1:1/", token = cfg.token} end, "option of http.client",
  "token is a client option, not a request's")
c:close()
local cfg2 = assert(kubeconfig.load{kubeconfig = KC})
cfg2.token:close()
cfg2.token:close()
t.is(tostring(cfg2.token), "<secret>", "close twice is fine, and it still prints as <secret>")
t.raises(function() http.client{token = cfg2.token} end, "the secret is closed", "a closed secret is refused")
do
  local k <close> = cfg2.key_pem
end
t.raises(function() http.client{cert_pem = cfg2.cert_pem, key_pem = cfg2.key_pem} end, "the secret is closed",
  "<close> closes it")

-- A wrong or broken key: the message names it, never its bytes
if have_openssl then
  local OTHER = tmp .. "/other.kubeconfig"
  write(OTHER, kubeconfig_text("    client-certificate-data: " .. b64(cert_pem) .. "\n"
    .. "    client-key-data: " .. b64(other_pem) .. "\n"))
  local ocfg = assert(kubeconfig.load{kubeconfig = OTHER})
  c, cerr = http.client{cert_pem = ocfg.cert_pem, key_pem = ocfg.key_pem}
  t.ok(c == nil and cerr:find("does not belong") and not leaks(cerr), "a key of another certificate: " .. tostring(cerr))
  local broken = key_pem:gsub("\n([^\n-][^\n]+)\n", function(l) return "\n" .. l:sub(1, 30) .. "@@" .. l:sub(33) .. "\n" end, 1)
  write(OTHER, kubeconfig_text("    client-certificate-data: " .. b64(cert_pem) .. "\n"
    .. "    client-key-data: " .. b64(broken) .. "\n"))
  ocfg = assert(kubeconfig.load{kubeconfig = OTHER})
  c, cerr = http.client{cert_pem = ocfg.cert_pem, key_pem = ocfg.key_pem}
  t.ok(c == nil and cerr:find("client key %(PEM text%)") and not leaks(cerr), "a broken key: " .. tostring(cerr))
else
  t.ok(true, "a key of another certificate # SKIP no openssl")
  t.ok(true, "a broken key # SKIP no openssl")
end

-- the grab-bag module is retired: kedge.kubeconfig and kedge.os own its parts
t.is(pcall(require, "kedge.kubecore"), false, "kedge.kubecore is gone")

if os.getenv("KEEP") then print("# " .. tmp) else os.execute("rm -rf " .. tmp) end
t.done()
