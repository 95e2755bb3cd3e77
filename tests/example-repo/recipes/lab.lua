-- The lab's recipe: the built-in pass with one extra step before anything
-- is applied, and the Lua function its debug-tools smoke test calls.
return function(pass)
  pass.smoke_func("toolbox_rendered", function(ctx, test)
    return ctx.objects ~= nil and #ctx.objects > 0, "the toolbox rendered no objects"
  end)
  if not (pass.load() and pass.select() and pass.render() and pass.budget()) then return end
  local ok = pass.step("no-debug-tools-in-production", function()
    local info = pass.info()
    if info.labels.env == "production" then
      return nil, "debug-tools is selected for a production site"
    end
    return true
  end)
  if not ok then return end
  if pass.info().mode == "plan" then
    pass.plan()
    return
  end
  for _, name in ipairs(pass.info().bundles) do
    if not (pass.apply(name) and pass.smoke(name)) then break end
  end
end
