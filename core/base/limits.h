/* Every limit kedge enforces on input it does not control, in one place.
 * Each can be overridden at compile time (-DKD_LIMIT_...=N). Exceeding one
 * is an error (KD_ELIMIT) that names the limit, never a crash or a hang. */
#ifndef KD_BASE_LIMITS_H
#define KD_BASE_LIMITS_H

/* Largest YAML or JSON text decoded in one call (bytes). */
#ifndef KD_LIMIT_DOC_BYTES
#define KD_LIMIT_DOC_BYTES (64u << 20)
#endif

/* Deepest nesting of lists and maps in decoded YAML or JSON, and in any
 * value that is encoded or converted (Lua tables included). */
#ifndef KD_LIMIT_DEPTH
#define KD_LIMIT_DEPTH 256
#endif

/* Nodes an alias may expand to in total per YAML stream: the bound against
 * "billion laughs" (each alias use counts the size of what it copies). */
#ifndef KD_LIMIT_YAML_ALIAS_NODES
#define KD_LIMIT_YAML_ALIAS_NODES 1000000u
#endif

/* Documents in one YAML stream. */
#ifndef KD_LIMIT_YAML_DOCS
#define KD_LIMIT_YAML_DOCS 100000u
#endif

/* Largest encoded YAML or JSON output (bytes). */
#ifndef KD_LIMIT_OUTPUT_BYTES
#define KD_LIMIT_OUTPUT_BYTES (256u << 20)
#endif

/* Heap of one Lua state (bytes). */
#ifndef KD_LIMIT_LUA_HEAP
#define KD_LIMIT_LUA_HEAP (256u << 20)
#endif

/* A site's own recipe (kedge.sandbox): Lua VM instructions, heap (bytes)
 * and wall-clock seconds its own code may use before it is stopped; the
 * pass steps it calls are kedge's and bounded by their own timeouts.
 * sandbox.call's defaults. */
#ifndef KD_LIMIT_RECIPE_INSTRUCTIONS
#define KD_LIMIT_RECIPE_INSTRUCTIONS 50000000u
#endif
#ifndef KD_LIMIT_RECIPE_HEAP
#define KD_LIMIT_RECIPE_HEAP (32u << 20)
#endif
#ifndef KD_LIMIT_RECIPE_SECONDS
#define KD_LIMIT_RECIPE_SECONDS 60
#endif

/* One Argo CD health script run (kedge.health): Lua VM instructions,
 * heap (bytes) and wall-clock seconds (Argo CD's own deadline is 1 s). A
 * script reads one object; these stop a loop or a runaway table fast. */
#ifndef KD_LIMIT_HEALTH_INSTRUCTIONS
#define KD_LIMIT_HEALTH_INSTRUCTIONS 10000000u
#endif
#ifndef KD_LIMIT_HEALTH_HEAP
#define KD_LIMIT_HEALTH_HEAP (16u << 20)
#endif
#ifndef KD_LIMIT_HEALTH_SECONDS
#define KD_LIMIT_HEALTH_SECONDS 1
#endif

/* Seconds a sandboxed run (a recipe, a health script) may go on past its
 * deadline in code its instruction hook cannot stop (a pattern match that
 * backtracks, one long library call) before a watchdog ends the process:
 * the deadline holds even where the hook does not. */
#ifndef KD_LIMIT_SANDBOX_GRACE_SECONDS
#define KD_LIMIT_SANDBOX_GRACE_SECONDS 2
#endif

/* Bytes a single arena may hold before allocations fail. */
#ifndef KD_LIMIT_ARENA_BYTES
#define KD_LIMIT_ARENA_BYTES (1024u << 20)
#endif

/* Memory one render may hold at once (bytes): every arena and buffer of
 * a chart render (kd_chart_render: the chart tree, values, the template
 * set, each template's execution, Sprig's scratch, compiled regexps, the
 * output) or of one template execution outside a chart. Past it the
 * render fails naming this limit, the template and its line. Enough for
 * the largest charts of the corpus many times over, small enough for an
 * edge node. */
#ifndef KD_LIMIT_RENDER_BYTES
#define KD_LIMIT_RENDER_BYTES (256u << 20)
#endif

/* Freed 32 KiB arena chunks a thread keeps for its next arenas (musl
 * unmaps a freed chunk at once; kd_arena_trim empties the cache). */
#ifndef KD_LIMIT_ARENA_CACHE_CHUNKS
#define KD_LIMIT_ARENA_CACHE_CHUNKS 16
#endif

/* Longest version or version range text (bytes), and most terms in one
 * range (a hyphen range counts two). */
#ifndef KD_LIMIT_SEMVER_BYTES
#define KD_LIMIT_SEMVER_BYTES 1024u
#endif
#ifndef KD_LIMIT_SEMVER_TERMS
#define KD_LIMIT_SEMVER_TERMS 64u
#endif

/* HTTP client (core/net): longest URL, host name and request target;
 * the response's status line plus header section (bytes) and header
 * count; the default body limit (callers may lower or raise it per
 * request, up to KD_LIMIT_HTTP_BODY_MAX); attempts per request, the
 * longest backoff between them and the longest Retry-After honoured. */
#ifndef KD_LIMIT_HTTP_URL_BYTES
#define KD_LIMIT_HTTP_URL_BYTES 8192u
#endif
#ifndef KD_LIMIT_HTTP_HOST_BYTES
#define KD_LIMIT_HTTP_HOST_BYTES 253u
#endif
#ifndef KD_LIMIT_HTTP_HEADER_BYTES
#define KD_LIMIT_HTTP_HEADER_BYTES (64u << 10)
#endif
#ifndef KD_LIMIT_HTTP_HEADERS
#define KD_LIMIT_HTTP_HEADERS 128u
#endif
#ifndef KD_LIMIT_HTTP_BODY_BYTES
#define KD_LIMIT_HTTP_BODY_BYTES (64u << 20)
#endif
#ifndef KD_LIMIT_HTTP_BODY_MAX
#define KD_LIMIT_HTTP_BODY_MAX (1024u << 20)
#endif
#ifndef KD_LIMIT_HTTP_ATTEMPTS
#define KD_LIMIT_HTTP_ATTEMPTS 10
#endif
#ifndef KD_LIMIT_HTTP_BACKOFF_MS
#define KD_LIMIT_HTTP_BACKOFF_MS 10000
#endif
#ifndef KD_LIMIT_HTTP_RETRY_AFTER_S
#define KD_LIMIT_HTTP_RETRY_AFTER_S 60
#endif

/* Template engine: nesting of actions and parentheses at parse time, depth
 * of template/include/tpl calls, range iterations per render. */
#ifndef KD_LIMIT_TMPL_PARSE_DEPTH
#define KD_LIMIT_TMPL_PARSE_DEPTH 500
#endif
#ifndef KD_LIMIT_TMPL_CALL_DEPTH
#define KD_LIMIT_TMPL_CALL_DEPTH 1000
#endif
#ifndef KD_LIMIT_TMPL_RANGE_ITERATIONS
#define KD_LIMIT_TMPL_RANGE_ITERATIONS 10000000u
#endif
/* Numbers one seq, until or untilStep makes: past it the render fails
 * naming this limit (Helm has none; a shorter list would be wrong). */
#ifndef KD_LIMIT_TMPL_SEQ_ITEMS
#define KD_LIMIT_TMPL_SEQ_ITEMS 1000000u
#endif
/* Key generations (genCA, genPrivateKey, ...) and password hashes (bcrypt,
 * htpasswd, derivePassword) per render: each costs milliseconds to
 * seconds, and charts need a handful. */
#ifndef KD_LIMIT_TMPL_CRYPTO_OPS
#define KD_LIMIT_TMPL_CRYPTO_OPS 64
#endif

/* Regular expressions (core/regex), Go's own bounds so a pattern Go
 * refuses is refused here with Go's message: the deepest parse tree
 * ("expression nests too deeply"), the largest repeat count ("invalid
 * repeat count", also for nested repeats multiplying past it), the most
 * instructions of a compiled program (Go's 128 MiB of 40-byte
 * instructions) and runes in the pattern ("expression too large"). The
 * most capture groups is kedge's own bound (the size of a capture array). */
#ifndef KD_LIMIT_REGEX_DEPTH
#define KD_LIMIT_REGEX_DEPTH 1000
#endif
#ifndef KD_LIMIT_REGEX_REPEAT
#define KD_LIMIT_REGEX_REPEAT 1000
#endif
#ifndef KD_LIMIT_REGEX_INSTS
#define KD_LIMIT_REGEX_INSTS 3355443
#endif
#ifndef KD_LIMIT_REGEX_RUNES
#define KD_LIMIT_REGEX_RUNES 33554432
#endif
#ifndef KD_LIMIT_REGEX_GROUPS
#define KD_LIMIT_REGEX_GROUPS 100
#endif

/* Config repo checkouts (core/git): files and bytes in one tree, the
 * mirror's packs, and the largest file kedge.git's repo:read returns. */
#ifndef KD_LIMIT_GIT_TREE_FILES
#define KD_LIMIT_GIT_TREE_FILES 200000u
#endif
#ifndef KD_LIMIT_GIT_TREE_BYTES
#define KD_LIMIT_GIT_TREE_BYTES (2048ull << 20)
#endif
/* Packs in a config repo mirror before it is repacked to what its refs
 * reach (each fetch adds one). */
#ifndef KD_LIMIT_GIT_PACKS
#define KD_LIMIT_GIT_PACKS 16
#endif
/* Refs a remote may advertise to kd_git_remote_head. */
#ifndef KD_LIMIT_GIT_REMOTE_REFS
#define KD_LIMIT_GIT_REMOTE_REFS 100000u
#endif
/* Bytes of a parsed tree libgit2 keeps cached when branches are read
 * without a checkout (git.store): a fleet's sites/ tree is read once per
 * site, and re-parsing 5,000 entries each time costs milliseconds. */
#ifndef KD_LIMIT_GIT_STORE_TREE_CACHE
#define KD_LIMIT_GIT_STORE_TREE_CACHE (4u << 20)
#endif
/* The largest file checked out of the config repo (bytes): its size is
 * read from the object's header, so a larger blob is refused before it is
 * loaded. */
#ifndef KD_LIMIT_GIT_FILE_BYTES
#define KD_LIMIT_GIT_FILE_BYTES (128u << 20)
#endif
#ifndef KD_LIMIT_GIT_READ_BYTES
#define KD_LIMIT_GIT_READ_BYTES (256u << 20)
#endif
/* Charts (core/chart): the largest file and the largest whole chart once
 * decompressed (Helm's own bounds: 5 MiB and 100 MiB), files per chart,
 * subchart nesting, subcharts in one chart, and the most manifests one
 * render may produce. Bytes, files and subcharts count across the whole
 * chart, nested archives included, not per archive. */
#ifndef KD_LIMIT_CHART_FILE_BYTES
#define KD_LIMIT_CHART_FILE_BYTES (5u << 20)
#endif
#ifndef KD_LIMIT_CHART_BYTES
#define KD_LIMIT_CHART_BYTES (100u << 20)
#endif
#ifndef KD_LIMIT_CHART_FILES
#define KD_LIMIT_CHART_FILES 50000u
#endif
#ifndef KD_LIMIT_CHART_DEPTH
#define KD_LIMIT_CHART_DEPTH 32
#endif
#ifndef KD_LIMIT_CHART_SUBCHARTS
#define KD_LIMIT_CHART_SUBCHARTS 10000u
#endif
#ifndef KD_LIMIT_CHART_MANIFESTS
#define KD_LIMIT_CHART_MANIFESTS 100000u
#endif

/* Container images (lua/kedge/images): the largest manifest or index
 * read from a registry or a layout, and a layout's index.json; manifests
 * one index lists and layers one manifest lists; references one pull or
 * one layout holds; the largest blob (a ustar size field holds less than
 * 8 GiB); and the bytes one ranged request of a blob fetches into memory
 * before they go to the temp file. */
#ifndef KD_LIMIT_IMAGE_MANIFEST_BYTES
#define KD_LIMIT_IMAGE_MANIFEST_BYTES (4u << 20)
#endif
#ifndef KD_LIMIT_IMAGE_INDEX_BYTES
#define KD_LIMIT_IMAGE_INDEX_BYTES (16u << 20)
#endif
#ifndef KD_LIMIT_IMAGE_INDEX_ENTRIES
#define KD_LIMIT_IMAGE_INDEX_ENTRIES 1024
#endif
#ifndef KD_LIMIT_IMAGE_LAYERS
#define KD_LIMIT_IMAGE_LAYERS 512
#endif
#ifndef KD_LIMIT_IMAGES
#define KD_LIMIT_IMAGES 10000
#endif
#ifndef KD_LIMIT_IMAGE_BLOB_BYTES
#define KD_LIMIT_IMAGE_BLOB_BYTES (4ull << 30)
#endif
#ifndef KD_LIMIT_IMAGE_CHUNK_BYTES
#define KD_LIMIT_IMAGE_CHUNK_BYTES (16u << 20)
#endif

/* The good revisions state.json keeps per bundle (lua/kedge/pass.lua), the
 * ones kedge rollback can go back to without a network. */
#ifndef KD_LIMIT_GOOD_HISTORY
#define KD_LIMIT_GOOD_HISTORY 10
#endif

/* Pass reports (lua/kedge/report.lua): undelivered reports and bytes the
 * outbox holds before the oldest are compacted into a summary, delivered
 * reports kept for `kedge report show`, bytes of a smoke test's output
 * kept per result, entries per summary, and the largest webhook response
 * read. The largest response body an http smoke test reads. */
#ifndef KD_LIMIT_OUTBOX_REPORTS
#define KD_LIMIT_OUTBOX_REPORTS 100
#endif
#ifndef KD_LIMIT_OUTBOX_BYTES
#define KD_LIMIT_OUTBOX_BYTES (8u << 20)
#endif
#ifndef KD_LIMIT_REPORTS_KEPT
#define KD_LIMIT_REPORTS_KEPT 20
#endif
#ifndef KD_LIMIT_REPORT_OUTPUT_BYTES
#define KD_LIMIT_REPORT_OUTPUT_BYTES 4096
#endif
/* The largest report, JUnit file or delivery marker read back from the
 * outbox or STATE/reports: checked before reading, a larger one is
 * quarantined as NAME.bad (the outbox's whole bound, so no report kedge
 * writes can be over it). */
#ifndef KD_LIMIT_REPORT_FILE_BYTES
#define KD_LIMIT_REPORT_FILE_BYTES (8u << 20)
#endif
#ifndef KD_LIMIT_REPORT_SUMMARY_ENTRIES
#define KD_LIMIT_REPORT_SUMMARY_ENTRIES 1000
#endif
/* age files (core/age): the largest file decrypted or made in memory, its
 * header, stanzas in a header, the bytes of a stanza body kept (X25519
 * and ssh-ed25519 bodies are 32), and identities in an identity file. */
#ifndef KD_LIMIT_AGE_FILE_BYTES
#define KD_LIMIT_AGE_FILE_BYTES (256u << 20)
#endif
#ifndef KD_LIMIT_AGE_HEADER_BYTES
#define KD_LIMIT_AGE_HEADER_BYTES (64u << 10)
#endif
#ifndef KD_LIMIT_AGE_STANZAS
#define KD_LIMIT_AGE_STANZAS 256
#endif
#ifndef KD_LIMIT_AGE_STANZA_BODY
#define KD_LIMIT_AGE_STANZA_BODY 64
#endif
#ifndef KD_LIMIT_AGE_IDENTITIES
#define KD_LIMIT_AGE_IDENTITIES 64
#endif
/* Decrypted secret strings the logger masks (kd_log_add_secret). */
#ifndef KD_LIMIT_LOG_SECRETS
#define KD_LIMIT_LOG_SECRETS 4096
#endif
/* The fleet view (kedge fleet status): the largest report read from a
 * status branch, and report names kept per site for its history. */
#ifndef KD_LIMIT_FLEET_REPORT_BYTES
#define KD_LIMIT_FLEET_REPORT_BYTES (1u << 20)
#endif
#ifndef KD_LIMIT_FLEET_HISTORY
#define KD_LIMIT_FLEET_HISTORY 20
#endif
#ifndef KD_LIMIT_WEBHOOK_RESPONSE_BYTES
#define KD_LIMIT_WEBHOOK_RESPONSE_BYTES (64u << 10)
#endif
#ifndef KD_LIMIT_SMOKE_BODY_BYTES
#define KD_LIMIT_SMOKE_BODY_BYTES (1u << 20)
#endif

/* Commands run by exec smoke tests (core/proc): the tail of their output
 * kept in memory. */
#ifndef KD_LIMIT_PROC_OUTPUT_BYTES
#define KD_LIMIT_PROC_OUTPUT_BYTES (64u << 10)
#endif

/* The file system room (core/base/fs, kedge.os): the largest file
 * kedge.os.read_file returns unless told otherwise, names one read_dir
 * lists, the longest wait for a lock and the longest sleep. */
#ifndef KD_LIMIT_FS_READ_BYTES
#define KD_LIMIT_FS_READ_BYTES (64u << 20)
#endif
#ifndef KD_LIMIT_FS_DIR_ENTRIES
#define KD_LIMIT_FS_DIR_ENTRIES 100000
#endif
#ifndef KD_LIMIT_FS_LOCK_WAIT_S
#define KD_LIMIT_FS_LOCK_WAIT_S 600
#endif
#ifndef KD_LIMIT_FS_SLEEP_S
#define KD_LIMIT_FS_SLEEP_S 60
#endif

/* The resident agent's pieces (core/proc, core/net/listen.c, kedge.os):
 * fds one poll watches, signal names one read returns, bytes one read of
 * a child's stdout returns, the largest request head a listener reads,
 * its accept backlog, and the longest wait of a listener's read or write. */
#ifndef KD_LIMIT_POLL_FDS
#define KD_LIMIT_POLL_FDS 1024
#endif
#ifndef KD_LIMIT_SIGNALS_READ
#define KD_LIMIT_SIGNALS_READ 64
#endif
#ifndef KD_LIMIT_CHILD_READ_BYTES
#define KD_LIMIT_CHILD_READ_BYTES (1u << 20)
#endif
#ifndef KD_LIMIT_LISTEN_REQUEST_BYTES
#define KD_LIMIT_LISTEN_REQUEST_BYTES (64u << 10)
#endif
#ifndef KD_LIMIT_LISTEN_BACKLOG
#define KD_LIMIT_LISTEN_BACKLOG 16
#endif
#ifndef KD_LIMIT_LISTEN_WAIT_S
#define KD_LIMIT_LISTEN_WAIT_S 60
#endif

/* Deployment windows (kedge.tz, kedge.windows): the largest TZif file
 * read, its transitions and local time types, the windows one list
 * (bundle, site or kedge.yaml) may hold, and how many days ahead the
 * search for the next opening looks. */
#ifndef KD_LIMIT_TZ_FILE_BYTES
#define KD_LIMIT_TZ_FILE_BYTES (256u << 10)
#endif
#ifndef KD_LIMIT_TZ_TRANSITIONS
#define KD_LIMIT_TZ_TRANSITIONS 4096
#endif
#ifndef KD_LIMIT_TZ_TYPES
#define KD_LIMIT_TZ_TYPES 256
#endif
#ifndef KD_LIMIT_WINDOWS
#define KD_LIMIT_WINDOWS 64
#endif
#ifndef KD_LIMIT_WINDOWS_SEARCH_DAYS
#define KD_LIMIT_WINDOWS_SEARCH_DAYS 8
#endif

/* Packs (kedge.pack): the largest MANIFEST read, the files one pack may
 * list (and a tar may hold, a walk of its folder may meet), the longest
 * path in it, and the largest single file. */
#ifndef KD_LIMIT_PACK_MANIFEST_BYTES
#define KD_LIMIT_PACK_MANIFEST_BYTES (64u << 20)
#endif
#ifndef KD_LIMIT_PACK_FILES
#define KD_LIMIT_PACK_FILES 200000
#endif
#ifndef KD_LIMIT_PACK_PATH_BYTES
#define KD_LIMIT_PACK_PATH_BYTES 1024
#endif
#ifndef KD_LIMIT_PACK_FILE_BYTES
#define KD_LIMIT_PACK_FILE_BYTES (64ull << 30)
#endif

/* SSH known_hosts (core/git/knownhosts.c): the largest file read, and the
 * longest key blob decoded from one line (a 16384-bit RSA key is about
 * 2 KiB). */
#ifndef KD_LIMIT_KNOWN_HOSTS_BYTES
#define KD_LIMIT_KNOWN_HOSTS_BYTES (1u << 20)
#endif
#ifndef KD_LIMIT_KNOWN_HOSTS_KEY_BYTES
#define KD_LIMIT_KNOWN_HOSTS_KEY_BYTES 4096u
#endif

#endif
