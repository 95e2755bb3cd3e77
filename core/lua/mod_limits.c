/* kedge.limits: the limits of core/base/limits.h for the Lua library, so
 * a limit is spelled once (limits.recipe_instructions is
 * KD_LIMIT_RECIPE_INSTRUCTIONS). A plain table of integers, built once per
 * state by require. */
#include "lua/klua.h"

#include "base/limits.h"

#include <lauxlib.h>

#define LIMIT(name, lower) {lower, (lua_Integer)KD_LIMIT_##name}

static const struct {
	const char *name;
	lua_Integer value;
} limits[] = {
	LIMIT(DOC_BYTES, "doc_bytes"),
	LIMIT(DEPTH, "depth"),
	LIMIT(YAML_ALIAS_NODES, "yaml_alias_nodes"),
	LIMIT(YAML_DOCS, "yaml_docs"),
	LIMIT(OUTPUT_BYTES, "output_bytes"),
	LIMIT(LUA_HEAP, "lua_heap"),
	LIMIT(RECIPE_INSTRUCTIONS, "recipe_instructions"),
	LIMIT(RECIPE_HEAP, "recipe_heap"),
	LIMIT(RECIPE_SECONDS, "recipe_seconds"),
	LIMIT(HEALTH_INSTRUCTIONS, "health_instructions"),
	LIMIT(HEALTH_HEAP, "health_heap"),
	LIMIT(HEALTH_SECONDS, "health_seconds"),
	LIMIT(SANDBOX_GRACE_SECONDS, "sandbox_grace_seconds"),
	LIMIT(ARENA_BYTES, "arena_bytes"),
	LIMIT(SEMVER_BYTES, "semver_bytes"),
	LIMIT(SEMVER_TERMS, "semver_terms"),
	LIMIT(HTTP_URL_BYTES, "http_url_bytes"),
	LIMIT(HTTP_HOST_BYTES, "http_host_bytes"),
	LIMIT(HTTP_HEADER_BYTES, "http_header_bytes"),
	LIMIT(HTTP_HEADERS, "http_headers"),
	LIMIT(HTTP_BODY_BYTES, "http_body_bytes"),
	LIMIT(HTTP_BODY_MAX, "http_body_max"),
	LIMIT(HTTP_ATTEMPTS, "http_attempts"),
	LIMIT(HTTP_BACKOFF_MS, "http_backoff_ms"),
	LIMIT(HTTP_RETRY_AFTER_S, "http_retry_after_s"),
	LIMIT(TMPL_PARSE_DEPTH, "tmpl_parse_depth"),
	LIMIT(TMPL_CALL_DEPTH, "tmpl_call_depth"),
	LIMIT(TMPL_RANGE_ITERATIONS, "tmpl_range_iterations"),
	LIMIT(TMPL_CRYPTO_OPS, "tmpl_crypto_ops"),
	LIMIT(TMPL_SEQ_ITEMS, "tmpl_seq_items"),
	LIMIT(GIT_TREE_FILES, "git_tree_files"),
	LIMIT(GIT_TREE_BYTES, "git_tree_bytes"),
	LIMIT(GIT_PACKS, "git_packs"),
	LIMIT(GIT_FILE_BYTES, "git_file_bytes"),
	LIMIT(GIT_READ_BYTES, "git_read_bytes"),
	LIMIT(CHART_FILE_BYTES, "chart_file_bytes"),
	LIMIT(CHART_BYTES, "chart_bytes"),
	LIMIT(CHART_FILES, "chart_files"),
	LIMIT(CHART_DEPTH, "chart_depth"),
	LIMIT(CHART_SUBCHARTS, "chart_subcharts"),
	LIMIT(CHART_MANIFESTS, "chart_manifests"),
	LIMIT(IMAGE_MANIFEST_BYTES, "image_manifest_bytes"),
	LIMIT(IMAGE_INDEX_BYTES, "image_index_bytes"),
	LIMIT(IMAGE_INDEX_ENTRIES, "image_index_entries"),
	LIMIT(IMAGE_LAYERS, "image_layers"),
	LIMIT(IMAGES, "images"),
	LIMIT(IMAGE_BLOB_BYTES, "image_blob_bytes"),
	LIMIT(IMAGE_CHUNK_BYTES, "image_chunk_bytes"),
	LIMIT(GOOD_HISTORY, "good_history"),
	LIMIT(OUTBOX_REPORTS, "outbox_reports"),
	LIMIT(OUTBOX_BYTES, "outbox_bytes"),
	LIMIT(REPORTS_KEPT, "reports_kept"),
	LIMIT(REPORT_OUTPUT_BYTES, "report_output_bytes"),
	LIMIT(REPORT_FILE_BYTES, "report_file_bytes"),
	LIMIT(REPORT_SUMMARY_ENTRIES, "report_summary_entries"),
	LIMIT(FLEET_REPORT_BYTES, "fleet_report_bytes"),
	LIMIT(FLEET_HISTORY, "fleet_history"),
	LIMIT(WEBHOOK_RESPONSE_BYTES, "webhook_response_bytes"),
	LIMIT(SMOKE_BODY_BYTES, "smoke_body_bytes"),
	LIMIT(PROC_OUTPUT_BYTES, "proc_output_bytes"),
	LIMIT(FS_READ_BYTES, "fs_read_bytes"),
	LIMIT(FS_DIR_ENTRIES, "fs_dir_entries"),
	LIMIT(FS_LOCK_WAIT_S, "fs_lock_wait_s"),
	LIMIT(FS_SLEEP_S, "fs_sleep_s"),
	LIMIT(POLL_FDS, "poll_fds"),
	LIMIT(SIGNALS_READ, "signals_read"),
	LIMIT(CHILD_READ_BYTES, "child_read_bytes"),
	LIMIT(LISTEN_REQUEST_BYTES, "listen_request_bytes"),
	LIMIT(LISTEN_BACKLOG, "listen_backlog"),
	LIMIT(LISTEN_WAIT_S, "listen_wait_s"),
	LIMIT(TZ_FILE_BYTES, "tz_file_bytes"),
	LIMIT(TZ_TRANSITIONS, "tz_transitions"),
	LIMIT(TZ_TYPES, "tz_types"),
	LIMIT(WINDOWS, "windows"),
	LIMIT(WINDOWS_SEARCH_DAYS, "windows_search_days"),
	LIMIT(PACK_MANIFEST_BYTES, "pack_manifest_bytes"),
	LIMIT(PACK_FILES, "pack_files"),
	LIMIT(PACK_PATH_BYTES, "pack_path_bytes"),
	LIMIT(PACK_FILE_BYTES, "pack_file_bytes"),
};

int kd_lua_open_limits(lua_State *L)
{
	size_t i, n = sizeof(limits) / sizeof(limits[0]);

	lua_createtable(L, 0, (int)n);
	for (i = 0; i < n; i++) {
		lua_pushinteger(L, limits[i].value);
		lua_setfield(L, -2, limits[i].name);
	}
	return 1;
}
