-- kedge.yaml and kedge.json from Lua: types, round trips, errors.
local t = dofile("tests/tap.lua")
local yaml = require "kedge.yaml"
local json = require "kedge.json"
local kedge = require "kedge"

local doc = [[
name: berlin-01
labels: {env: production, region: eu}
replicas: 3
ratio: 0.5
enabled: yes
nothing: ~
list:
  - a
  - 1
  - 2.5
empty_list: []
empty_map: {}
]]

local v = assert(yaml.decode(doc))
t.is(v.name, "berlin-01", "string scalar")
t.is(v.replicas, 3, "int stays an integer")
t.is(math.type(v.replicas), "integer", "int has Lua integer type")
t.is(math.type(v.ratio), "float", "float has Lua float type")
t.is(v.enabled, true, "yes is a YAML 1.1 boolean")
t.ok(kedge.is_null(v.nothing), "null keeps its key as kedge.null")
t.is(v.nothing, yaml.null, "yaml.null is the same sentinel")
t.is(json.null, kedge.null, "json.null is the same sentinel")
t.is(#v.list, 3, "list length")
t.is(v.list[3], 2.5, "list item")

local helm = assert(yaml.decode("port: 8080\n", {numbers = "float"}))
t.is(math.type(helm.port), "float", "numbers=float gives floats as Helm does")

-- YAML -> value -> JSON -> value -> YAML
local j = assert(json.encode(v))
local back = assert(json.decode(j))
t.same(back, v, "YAML -> JSON -> value keeps everything")
t.is(json.encode(back.empty_list), "[]", "empty list stays a list through decode")
t.is(json.encode(back.empty_map), "{}", "empty map stays a map")
local y2 = assert(yaml.encode(back))
t.same(assert(yaml.decode(y2)), v, "and back to YAML again")

t.is(json.encode({b = 1, a = {2, 3}}), '{"a":[2,3],"b":1}', "Lua tables encode with sorted keys")
t.is(json.encode(kedge.list({})), "[]", "kedge.list marks an empty table as a list")
t.is(json.encode({}), "{}", "an unmarked empty table is a map")
t.is(json.encode(1.0), "1", "float 1.0 prints as Go prints it")
t.is(json.encode(1e21), "1e+21", "large floats use exponents as Go does")
t.is(json.encode({a = 1}, {indent = 2}), '{\n  "a": 1\n}', "indent")
t.is(json.encode("<&>", {escape_html = true}), '"\\u003c\\u0026\\u003e"', "escape_html")
t.is(yaml.encode({b = 1, a = "true"}), 'a: "true"\nb: 1\n', "YAML encode quotes strings that look like booleans")

local docs = assert(yaml.decode_all("a: 1\n---\nb: 2\n"))
t.is(#docs, 2, "decode_all gives every document")
t.is(yaml.encode_all(docs), "a: 1\n---\nb: 2\n", "encode_all joins documents")

-- expected failures: nil, "name:line:col: message"
local r, err = yaml.decode("a: 1\nb: [1, 2\n", {name = "values.yaml"})
t.is(r, nil, "malformed YAML returns nil")
t.like(err, "^values%.yaml:%d+:%d+: ", "YAML error names file, line and column")
r, err = json.decode('{"a": 1,\n "b": }', {name = "x.json"})
t.is(r, nil, "malformed JSON returns nil")
t.like(err, "^x%.json:2:7: ", "JSON error names line and column")
r, err = json.encode(0/0)
t.is(r, nil, "NaN cannot be JSON")
t.like(err, "NaN", "and the error says so")

-- programming errors raise
t.raises(function() yaml.decode(nil) end, "bad argument #1", "decode(nil) raises")
t.raises(function() json.encode({f = print}) end, "function", "a function cannot be encoded")
local cyc = {}; cyc.self = cyc
t.raises(function() json.encode(cyc) end, "deeper than", "a cycle is caught by the depth limit")
t.raises(function() json.encode({[1] = "a", ["1"] = "b"}) end, "same map key", "colliding keys are refused")
t.raises(function() yaml.decode("a: 1", {numbers = "int"}) end, "numbers", "bad option value raises")

t.done()
