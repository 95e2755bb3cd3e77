-- Helm fidelity: the template function table is complete by construction
-- (every name of Sprig v3.2.3's GenericFuncMap, as Helm v3.15 uses it less
-- env and expandenv, Helm's own additions and Go's builtins parses), and
-- the classes of difference found rendering charts outside the corpora,
-- each as a minimal case with Helm's output: deepEqual with Go's types,
-- mustFromJson, toDecimal, the snake_case date functions, dig after
-- .Values is replaced with set, and tpl's result without "<no value>".
local t = dofile("tests/tap.lua")
local chart = require "kedge.chart"

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp .. "/c/templates"))
local function write(path, text)
  local f = assert(io.open(tmp .. "/" .. path, "wb"))
  f:write(text)
  f:close()
end
write("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
write("c/values.yaml", "a: {x: 1}\nb: {x: 1}\nn: 1\nmode: 755\n")

-- the chart with one template t.yaml, "v: TEXT" (a document that is a
-- bare scalar fails, as in Helm): what TEXT gave, or nil, err
local function render(text)
  write("c/templates/t.yaml", "v: " .. text)
  local out, err = chart.helm_template{chart = tmp .. "/c", release = "r", kube_version = "1.29.0"}
  if not out then return nil, err and err.msg or tostring(err) end
  return (out:gsub("^%-%-%-\n# Source: c/templates/t.yaml\nv: ", ""):gsub("\n$", ""))
end

-- Sprig v3.2.3's GenericFuncMap (functions.go) less env and expandenv,
-- which Helm deletes, plus Helm v3.15's engine (funcs.go, engine.go)
local HELM = {
  "abbrev", "abbrevboth", "add", "add1", "add1f", "addf", "adler32sum", "ago", "all", "any",
  "append", "atoi", "b32dec", "b32enc", "b64dec", "b64enc", "base", "bcrypt", "biggest",
  "buildCustomCert", "camelcase", "cat", "ceil", "chunk", "clean", "coalesce", "compact",
  "concat", "contains", "date", "dateInZone", "dateModify", "date_in_zone", "date_modify",
  "decryptAES", "deepCopy", "deepEqual", "default", "derivePassword", "dict", "dig", "dir",
  "div", "divf", "duration", "durationRound", "empty", "encryptAES", "ext", "fail", "first",
  "float64", "floor", "fromJson", "fromJsonArray", "fromYaml", "fromYamlArray", "genCA",
  "genCAWithKey", "genPrivateKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
  "genSignedCert", "genSignedCertWithKey", "get", "getHostByName", "has", "hasKey", "hasPrefix",
  "hasSuffix", "hello", "htmlDate", "htmlDateInZone", "htpasswd", "include", "indent", "initial",
  "initials", "int", "int64", "isAbs", "join", "kebabcase", "keys", "kindIs", "kindOf", "last",
  "list", "lookup", "lower", "max", "maxf", "merge", "mergeOverwrite", "min", "minf", "mod",
  "mul", "mulf", "mustAppend", "mustChunk", "mustCompact", "mustDateModify", "mustDeepCopy",
  "mustFirst", "mustFromJson", "mustHas", "mustInitial", "mustLast", "mustMerge",
  "mustMergeOverwrite", "mustPrepend", "mustPush", "mustRegexFind", "mustRegexFindAll",
  "mustRegexMatch", "mustRegexReplaceAll", "mustRegexReplaceAllLiteral", "mustRegexSplit",
  "mustRest", "mustReverse", "mustSlice", "mustToDate", "mustToJson", "mustToPrettyJson",
  "mustToRawJson", "mustUniq", "mustWithout", "must_date_modify", "nindent", "nospace", "now",
  "omit", "osBase", "osClean", "osDir", "osExt", "osIsAbs", "pick", "pluck", "plural", "prepend",
  "push", "quote", "randAlpha", "randAlphaNum", "randAscii", "randBytes", "randInt",
  "randNumeric", "regexFind", "regexFindAll", "regexMatch", "regexQuoteMeta", "regexReplaceAll",
  "regexReplaceAllLiteral", "regexSplit", "repeat", "replace", "required", "rest", "reverse",
  "round", "semver", "semverCompare", "seq", "set", "sha1sum", "sha256sum", "shuffle", "slice",
  "snakecase", "sortAlpha", "split", "splitList", "splitn", "squote", "sub", "subf", "substr",
  "swapcase", "ternary", "title", "toDate", "toDecimal", "toJson", "toPrettyJson", "toRawJson",
  "toString", "toStrings", "toToml", "toYaml", "tpl", "trim", "trimAll", "trimPrefix",
  "trimSuffix", "trimall", "trunc", "tuple", "typeIs", "typeIsLike", "typeOf", "uniq",
  "unixEpoch", "unset", "until", "untilStep", "untitle", "upper", "urlJoin", "urlParse",
  "uuidv4", "values", "without", "wrap", "wrapWith"
}
local GO = {
  "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt",
  "le", "gt", "ge", "html", "js", "urlquery", "call"
}
local missing = {}
for _, list in ipairs({HELM, GO}) do
  for _, name in ipairs(list) do
    local _, err = render("{{ if false }}{{ " .. name .. " }}{{ end }}")
    if err then missing[#missing + 1] = name .. ": " .. err end
  end
end
t.is(#HELM, 217, "the reference list holds Helm v3.15's 217 function names")
t.same(missing, {}, "every one of them is defined in kedge")
local _, err = render("{{ nosuchfunc }}")
t.like(err, 'function "nosuchfunc" not defined', "and an unknown name is still refused")

local cases = {
  {'{{ deepEqual (list 1 2) (list 1 2) }}', "true", "deepEqual: equal lists"},
  {'{{ deepEqual 1 1.0 }}', "false", "deepEqual: int is not float64"},
  {'{{ deepEqual .Values.a .Values.b }}', "true", "deepEqual: equal maps from values"},
  {'{{ deepEqual .Values.n 1 }}', "false", "deepEqual: a number from values is a float64"},
  {'{{ deepEqual .Values (dict) }}', "false", "deepEqual: chartutil.Values is not a plain map"},
  {'{{ deepEqual (dict "a" 1) (dict "a" 1) }}', "true", "deepEqual: equal dicts"},
  {'{{ deepEqual (dict "a" 1) (dict "a" 2) }}', "false", "deepEqual: different values"},
  {'{{ mustFromJson "[1,2]" | len }}', "2", "mustFromJson: a list"},
  {[[{{ (mustFromJson "{\"a\":1}").a }}]], "1", "mustFromJson: a map"},
  {'{{ mustFromJson "3" }}', "3", "mustFromJson: any JSON value, as json.Unmarshal gives it"},
  {'{{ toDecimal "0755" }}', "493", "toDecimal: an octal string"},
  {'{{ toDecimal .Values.mode }}', "493", "toDecimal: a number, as fmt.Sprint prints it"},
  {'{{ toDecimal "8" }}', "0", "toDecimal: not octal gives 0"},
  {'{{ toDecimal "-10" }}', "-8", "toDecimal: a sign"},
  {'{{ toDecimal "1777777777777777777777" }}', "0", "toDecimal: past int64 gives 0"},
  {'{{ date_in_zone "2006-01-02 15:04" (toDate "2006-01-02" "2024-01-01") "UTC" }}',
    "2024-01-01 00:00", "date_in_zone is dateInZone"},
  {'{{ date_modify "+90m" (toDate "2006-01-02" "2024-01-01") | date "2006-01-02 15:04" }}',
    "2024-01-01 01:30", "date_modify is dateModify"},
  {'{{ must_date_modify "-1h" (toDate "2006-01-02" "2024-01-01") | date "2006-01-02 15:04" }}',
    "2023-12-31 23:00", "must_date_modify is mustDateModify"},
  {'{{ $_ := set $ "Values" (dict "a" (dict "b" "x")) }}{{ dig "a" "b" "d" .Values }}', "x",
    "dig after .Values is replaced with set: a plain map"},
  {'{{ if eq (tpl "{{ .Values.missing }}" .) "" }}empty{{ else }}not{{ end }}', "empty",
    "tpl's result has <no value> removed"},
  {'{{ define "x" }}{{ .Values.missing }}{{ end }}{{ if eq (include "x" .) "" }}empty{{ else }}not{{ end }}',
    "not", "include's result keeps it"},
}
for _, c in ipairs(cases) do
  local out, rerr = render(c[1])
  t.is(out, c[2], c[3] .. (rerr and (": " .. rerr) or ""))
end

_, err = render('{{ mustFromJson "{" }}')
t.like(err, "error calling mustFromJson: unexpected end of JSON input", "mustFromJson fails on bad JSON")
_, err = render('{{ dig "a" "d" .Values }}')
t.like(err, "interface conversion: interface {} is chartutil.Values", "dig on the given .Values fails as in Helm")
_, err = render('{{ must_date_modify "bad" now }}')
t.like(err, "error calling must_date_modify", "must_date_modify fails on a bad duration")

os.execute("rm -rf " .. tmp)
t.done()
