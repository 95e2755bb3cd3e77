-- The built-in recipe: steps 2–9 of the pass (DESIGN.md), written only
-- against the pass object of kedge.pass, the same functions a site's own
-- recipe gets. The budget refuses the whole pass before anything is
-- touched; each bundle is applied and smoke-tested before the next one
-- (dependsOn order), and a failed bundle ends the apply (it is rolled back
-- to its last good revision). record and report run whatever happened.
return function(pass)
  if not (pass.load() and pass.select() and pass.render() and pass.budget()) then
    return
  end
  if pass.info().mode == "plan" then
    pass.plan()
    return
  end
  for _, name in ipairs(pass.info().bundles) do
    if not (pass.apply(name) and pass.smoke(name)) then break end
  end
  pass.record()
  pass.report()
end
