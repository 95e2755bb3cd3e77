-- kedge: the root of kedge's Lua library.
--
--   local kedge = require "kedge"
--   kedge.version          --> "0.1.0-dev"
--   kedge.libraries.lua    --> "5.4.4"
--   kedge.null             -- stands for YAML/JSON null inside tables
--   kedge.list({})         -- marks a table as a list, so {} encodes as []
--   kedge.is_null(v)
local core = require "kedge.core"

return {
  version = core.version,
  commit = core.commit,
  libraries = core.libraries,
  null = core.null,
  list = core.list,
  is_null = core.is_null,
}
