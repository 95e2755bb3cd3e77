-- kedge.cli.render: `kedge render [NAME] CHART`. The command table has
-- parsed the flags; kedge.chart.helm_template does what `helm template`
-- does with them.
local chart = require "kedge.chart"

local M = {}

function M.run(o, args, cmd)
  if #args == 0 then
    return require("kedge.cli").usage_error(cmd, "give the CHART to render")
  end
  local out, err = chart.helm_template{
    chart = args[#args], release = #args == 2 and args[1] or nil,
    name_template = o.name_template, generate_name = o.generate_name,
    namespace = o.namespace, kube_version = o.kube_version,
    api_versions = o.api_versions or {}, show_only = o.show_only or {},
    values_files = o.values or {},
    set = {json = o.set_json or {}, set = o.set or {}, string = o.set_string or {},
      file = o.set_file or {}, literal = o.set_literal or {}},
    is_upgrade = o.is_upgrade, include_crds = o.include_crds,
    skip_tests = o.skip_tests, no_hooks = o.no_hooks,
  }
  if not out then
    if err.kind == "usage" then return require("kedge.cli").usage_error(cmd, err.msg) end
    io.stderr:write("Error: ", err.msg, "\n")
    return require("kedge.cli").EXIT.failed
  end
  local ok, werr = io.stdout:write(out)
  if ok then ok, werr = io.stdout:flush() end
  if not ok then
    io.stderr:write("Error: writing the output: ", tostring(werr), "\n")
    return require("kedge.cli").EXIT.failed
  end
  return require("kedge.cli").EXIT.ok
end

return M
