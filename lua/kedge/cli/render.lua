-- kedge.cli.render: `kedge render [NAME] CHART`. The command table has
-- checked the flags; the chart is rendered by main.c's C code
-- (kedge.cli.render_c) on the same arguments, until kedge.chart renders
-- a release from Lua.
local M = {}

function M.run(o, args, cmd)
  if #args == 0 then
    return require("kedge.cli").usage_error(cmd, "give the CHART to render")
  end
  if #args == 2 and o.name_template then
    return require("kedge.cli").usage_error(cmd, "cannot set --name-template and also specify a name")
  end
  io.stdout:flush()
  return require("kedge.cli.render_c").render(o.argv)
end

return M
