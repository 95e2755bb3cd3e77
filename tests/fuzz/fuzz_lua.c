/* Fuzz target for the parsers written in Lua: the embedded library in a
 * state made as core/lua/host.c makes it (the standard libraries, the C
 * modules and lua/ in package.preload), fed by the driver below. The first
 * byte picks the parser (modulo 7); the rest is cut at NUL bytes into its
 * inputs (a TZif file is the whole rest):
 *   0 Kubernetes quantities (kedge.budget.quantity, every dimension)
 *   1 TZif files and POSIX TZ strings (kedge.tz)
 *   2 agent.yaml (kedge.agent.config.parse)
 *   3 the config repo: kedge.yaml, two sites and a bundle with its values
 *     (kedge.site.load over an in-memory tree, then select for each site)
 *   4 reports read back from the outbox (kedge.report.list and show over
 *     a scratch state folder)
 *   5 OCI registries: a version range, then the answers to a pull (tags,
 *     manifest, layer; tokens, redirects) (kedge.oci, with
 *     kedge.http.request answered from the input)
 *   6 Helm repositories: a version range, index.yaml and the archive
 *     (kedge.chartrepo.pull)
 * Answers to HTTP requests (5, 6) follow the range, each of the form
 * "CODE\nname: value\n...\n\nbody", separated by "\0---\0" (bodies hold
 * NUL bytes). An expected failure is nil plus a message; a Lua
 * error raised out of a parser is a bug and aborts (running out of the
 * state's heap does not). */
#include "fuzz.h"

#include "base/limits.h"
#include "lua/klua.h"

#include <lauxlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char driver[] =
	"local mode, raw, state = ...\n"
	"require('kedge.core').log_setup('error', 'text') -- warnings would slow it down\n"
	"local function split(max)\n"
	"  local out, at = {}, 1\n"
	"  while #out < max - 1 do\n"
	"    local z = raw:find('\\0', at, true)\n"
	"    if not z then break end\n"
	"    out[#out + 1] = raw:sub(at, z - 1)\n"
	"    at = z + 1\n"
	"  end\n"
	"  out[#out + 1] = raw:sub(at)\n"
	"  return out\n"
	"end\n"
	"local parts = split(mode == 1 and 1 or (mode == 5 or mode == 6) and 2 or 8)\n"
	"local function part(i) return parts[i] or '' end\n"
	"local answers = {}\n"
	"if mode == 5 or mode == 6 then\n"
	"  local rest, at = part(2), 1\n"
	"  while #answers < 16 do\n"
	"    local z = rest:find('\\0---\\0', at, true)\n"
	"    answers[#answers + 1] = rest:sub(at, z and z - 1)\n"
	"    if not z then break end\n"
	"    at = z + 5\n"
	"  end\n"
	"end\n"
	"local function str(v) return type(v) == 'string' or v == nil end\n"
	"local function expect(ok, err)\n"
	"  if ok == nil and type(err) ~= 'string' and type(err) ~= 'table' then\n"
	"    error('failure without a message: ' .. tostring(err)) end\n"
	"end\n"
	"local http = require 'kedge.http'\n"
	"http.request = function(req)\n"
	"  local a = table.remove(answers, 1)\n"
	"  if not a then return nil, 'connection refused' end\n"
	"  local code, rest = a:match('^(%d%d?%d?)\\n?(.*)$') -- as http-parser reads it\n"
	"  if not code then return nil, 'malformed answer' end\n"
	"  local head, body = '', rest:sub(2)\n"
	"  if rest:sub(1, 1) ~= '\\n' then head, body = rest:match('^(.-)\\n\\n(.*)$') end\n"
	"  if not head then head, body = rest, '' end\n"
	"  local h = {}\n"
	"  for name, v in head:gmatch('([^:\\n]+):%s*([^\\n]*)') do h[name:lower()] = v end\n"
	"  if req.max_body and #body > req.max_body then return nil, 'body too large' end\n"
	"  return {status = tonumber(code), headers = h, body = body}\n"
	"end\n"
	"if mode == 0 then\n"
	"  local budget = require 'kedge.budget'\n"
	"  for _, dim in ipairs{'cpu', 'memory', 'ephemeral-storage', 'storage', 'pods', 'nodes'} do\n"
	"    local n, err = budget.quantity(part(1), dim)\n"
	"    expect(n, err)\n"
	"    if n then\n"
	"      if math.type(n) ~= 'integer' then error('quantity not an integer') end\n"
	"      local s = budget.format(n, dim)\n"
	"      if type(s) ~= 'string' then error('format gave no text') end\n"
	"    end\n"
	"    local num = tonumber(part(1))\n"
	"    if num then expect(budget.quantity(num, dim)) end\n"
	"  end\n"
	"elseif mode == 1 then\n"
	"  local tz = require 'kedge.tz'\n"
	"  local z, err = tz.parse_tzif(raw, 'fuzz')\n"
	"  expect(z, err)\n"
	"  tz.parse_posix(raw)\n"
	"  if z then\n"
	"    for _, t in ipairs{-2^40, -1, 0, 1700000000, 4102444800, 2^40} do\n"
	"      t = math.tointeger(t)\n"
	"      local off = tz.offset(z, t)\n"
	"      if math.type(off) ~= 'integer' then error('offset not an integer') end\n"
	"      tz.from_local(z, tz.to_local(z, t))\n"
	"    end\n"
	"  end\n"
	"elseif mode == 2 then\n"
	"  local config = require 'kedge.agent.config'\n"
	"  local cfg, errs = config.parse(part(1), 'agent.yaml')\n"
	"  expect(cfg, errs)\n"
	"  if not cfg then config.format_errors(errs) end\n"
	"elseif mode == 3 then\n"
	"  local site = require 'kedge.site'\n"
	"  local files = {['kedge.yaml'] = parts[1], ['sites/a.yaml'] = parts[2],\n"
	"    ['sites/b.yaml'] = parts[3], ['bundles/web/bundle.yaml'] = parts[4],\n"
	"    ['bundles/web/values.yaml'] = parts[5], ['charts/web/Chart.yaml'] = parts[6],\n"
	"    ['bundles/db/bundle.yaml'] = parts[7]}\n"
	"  local tree = {}\n"
	"  function tree.read(_, path)\n"
	"    local t = files[path]\n"
	"    if t and t ~= '' then return t end\n"
	"    return nil, path .. ': no such file', 'missing'\n"
	"  end\n"
	"  function tree.list(_, dir)\n"
	"    local out, seen = {}, {}\n"
	"    local pre = dir == '' and '' or dir .. '/'\n"
	"    for path, t in pairs(files) do\n"
	"      if t ~= '' and path:sub(1, #pre) == pre then\n"
	"        local rest = path:sub(#pre + 1)\n"
	"        local name, more = rest:match('^([^/]+)(/?)')\n"
	"        if name and not seen[name] then\n"
	"          seen[name] = true\n"
	"          out[#out + 1] = {name = name, type = more == '/' and 'dir' or 'file'}\n"
	"        end\n"
	"      end\n"
	"    end\n"
	"    if #out == 0 then return nil, dir .. ': no such folder', 'missing' end\n"
	"    table.sort(out, function(x, y) return x.name < y.name end)\n"
	"    return out\n"
	"  end\n"
	"  function tree.close() end\n"
	"  local repo, err = site.load(tree)\n"
	"  expect(repo, err)\n"
	"  if repo then\n"
	"    for _, name in ipairs{'a', 'b'} do\n"
	"      if repo.sites[name] then expect(site.select(repo, name)) end\n"
	"    end\n"
	"  end\n"
	"elseif mode == 4 then\n"
	"  local report = require 'kedge.report'\n"
	"  local kos = require 'kedge.os'\n"
	"  local dir = state .. '/outbox'\n"
	"  local names = {'a-20260101T000000Z-1234567-abcd.json', 'b-20260101T000001Z-1234567-ef01.json',\n"
	"    'a-20260101T000000Z-1234567-abcd.junit.xml'}\n"
	"  for i, name in ipairs(names) do\n"
	"    os.remove(dir .. '/' .. name)\n"
	"    if parts[i] and parts[i] ~= '' then\n"
	"      local f = assert(io.open(dir .. '/' .. name, 'wb'))\n"
	"      f:write(parts[i]) f:close()\n"
	"    end\n"
	"  end\n"
	"  local list, err = report.list(state)\n"
	"  expect(list, err)\n"
	"  if list and #list > 0 then\n"
	"    expect(report.show(state, 'last'))\n"
	"    expect(report.show(state, list[1].id))\n"
	"  end\n"
	"elseif mode == 5 then\n"
	"  local oci = require 'kedge.oci'\n"
	"  local c = assert(oci.client{auths = {auths = {['registry.example'] = {user = 'u', basic = 'dTpw'}}}})\n"
	"  local range = part(1) ~= '' and part(1) or '^1.0.0'\n"
	"  expect(c:pull_chart('oci://registry.example/charts/demo', range, 1 << 20))\n"
	"elseif mode == 6 then\n"
	"  local chartrepo = require 'kedge.chartrepo'\n"
	"  local client = {get = function(_, url, opts)\n"
	"    local r, err = http.request{url = url, max_body = opts and opts.max_body}\n"
	"    if not r then return nil, err, 'unreachable' end\n"
	"    return r\n"
	"  end}\n"
	"  local range = part(1) ~= '' and part(1) or nil\n"
	"  expect(chartrepo.pull(client, 'https://charts.example/stable', 'demo', range, 1 << 20))\n"
	"end\n";

static int traceback(lua_State *L)
{
	luaL_traceback(L, L, lua_tostring(L, 1), 1);
	return 1;
}

static char state_dir[64];

static void remove_state(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
	if (system(cmd))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kd_lua *kl;
	kd_err err;
	lua_State *L;
	int rc;

	if (size < 1)
		return 0;
	if (!state_dir[0]) {
		char out[96];

		snprintf(state_dir, sizeof state_dir, "/tmp/kedge-fuzz-lua-XXXXXX");
		if (!mkdtemp(state_dir))
			abort();
		snprintf(out, sizeof out, "%s/outbox", state_dir);
		if (mkdir(out, 0755))
			abort();
		atexit(remove_state);
	}
	/* the state kedge itself makes: the same preloads, loaded the same way */
	if (kd_lua_new(&kl, 256u << 20, &err))
		abort();
	L = kd_lua_state(kl);
	lua_pushcfunction(L, traceback);
	if (luaL_loadbufferx(L, driver, sizeof driver - 1, "=fuzz_lua", "t") != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		abort();
	}
	lua_pushinteger(L, data[0] % 7);
	lua_pushlstring(L, (const char *)data + 1, size - 1);
	lua_pushstring(L, state_dir);
	rc = lua_pcall(L, 3, 0, 1);
	if (rc != LUA_OK && rc != LUA_ERRMEM) {
		const char *msg = lua_tostring(L, -1);

		/* out of heap inside a C function surfaces as its message */
		if (!msg || !strstr(msg, "not enough memory")) {
			fprintf(stderr, "fuzz_lua: a Lua error escaped the parser: %s\n",
				msg ? msg : "(not a string)");
			abort();
		}
	}
	kd_lua_free(kl);
	return 0;
}
