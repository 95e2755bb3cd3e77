-- kedge.errors: failures as values with a kind, formatted as messages.
local t = dofile("tests/tap.lua")
local errors = require "kedge.errors"
local K = errors.KIND

local e = errors.new(K.IO, "cannot read x", {file = "sites/a.yaml"})
t.is(e.kind, "io", "an error has its kind")
t.is(e.msg, "cannot read x", "and its message")
t.is(tostring(e), "sites/a.yaml: cannot read x", "tostring puts the file first")
t.is("step: " .. e, "step: sites/a.yaml: cannot read x", "concatenation formats it too")
t.ok(errors.is(e, K.IO), "errors.is: the kind")
t.ok(not errors.is(e, K.LIMIT), "not another")
t.ok(not errors.is("io", K.IO), "a string is no error value")
t.ok(not errors.is(nil, K.IO), "nor is nil")
t.is(errors.kind(e), K.IO, "errors.kind")
t.is(errors.kind("x"), nil, "errors.kind of a string")
t.is(tostring(errors.new(K.LIMIT, "stopped")), "stopped", "no place: the message alone")

local kinds = {}
for name, v in pairs(K) do
  t.is(type(v), "string", "kind " .. name .. " is a string")
  t.ok(not kinds[v], "kind " .. name .. " is distinct")
  kinds[v] = true
end
for _, name in ipairs({"RECIPE_SYNTAX", "RECIPE_RUNTIME", "LIMIT", "VALIDATION", "IO", "KUBE"}) do
  t.ok(K[name], "there is a kind " .. name)
end

-- a place at the start of a message becomes file, line (and col)
local lua_msg = "recipes/a.lua:3: '=' expected near 'y'"
local s = errors.located(K.RECIPE_SYNTAX, lua_msg, "recipes/a.lua")
t.same({s.kind, s.file, s.line, s.col, s.msg},
  {"recipe-syntax", "recipes/a.lua", 3, nil, "'=' expected near 'y'"}, "Lua's file:line:")
t.is(tostring(s), lua_msg, "and formats back as it was")
local y = errors.located(K.PARSE, "a.yaml:2:7: mapping values are not allowed", "a.yaml")
t.same({y.line, y.col, y.msg}, {2, 7, "mapping values are not allowed"}, "the YAML decoder's file:line:col:")
t.is(tostring(y), "a.yaml:2:7: mapping values are not allowed", "formats back")
local multi = "r.lua:1: boom\nstack traceback:\n\t[C]: in ?"
t.is(tostring(errors.located(K.RECIPE_RUNTIME, multi, "r.lua")), multi, "a traceback stays in the message")
local other = errors.located(K.RECIPE_RUNTIME, "other.lua:1: x", "r.lua")
t.same({other.file, other.line, tostring(other)}, {nil, nil, "other.lua:1: x"},
  "a message about another file keeps its text whole")
t.is(errors.located(K.LIMIT, "recipe stopped: deadline exceeded", "r.lua").line, nil,
  "a message without a place has no line")

t.done()
