/* kedge's entry point: it makes the Lua state and hands the command line
 * to require("kedge.cli").main(argv), where the command table lives
 * (lua/kedge/cli.lua); its result is the exit status. Only a state that
 * cannot be made, or a Lua error escaping the CLI, is handled here
 * (exit 1). */
#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "lua/klua.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	kd_err err = KD_ERR_INIT;
	kd_lua *kl = NULL;
	int rc, status = 1;

	rc = kd_lua_new(&kl, KD_LIMIT_LUA_HEAP, &err);
	if (!rc)
		rc = kd_lua_run_main(kl, "kedge.cli", "main", argc - 1, argv + 1, &status, &err);
	if (rc) {
		fprintf(stderr, "kedge: %s\n", err.msg);
		status = 1;
	}
	kd_lua_free(kl);
	kd_arena_trim();
	return status;
}
