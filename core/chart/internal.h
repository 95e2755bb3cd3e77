/* Shared between the files of core/chart only. */
#ifndef KD_CHART_INTERNAL_H
#define KD_CHART_INTERNAL_H

#include "chart/chart.h"

#include <stdint.h>

typedef struct kd_chart_file {
	const char *name; /* path inside the chart, '/'-separated */
	const char *data; /* NUL-terminated at data[len] */
	size_t len;
} kd_chart_file;

/* A file mapped into memory; the root chart unmaps them. */
typedef struct kd_chart_map {
	void *p;
	size_t n;
	struct kd_chart_map *next;
} kd_chart_map;

typedef struct kd_chart_budget kd_chart_budget;

struct kd_chart {
	kd_arena *a;         /* the tree's arena (the root owns it) */
	bool root;
	kd_chart_map *maps;  /* root only */
	const char *path;    /* where it was loaded from, for messages */
	kd_value *meta;      /* Chart.yaml (and requirements.yaml's deps) */
	kd_value *lock;      /* Chart.lock (or requirements.lock), or NULL */
	const char *name, *version, *api_version, *type;
	kd_value *values;    /* values.yaml, a map */
	const char *schema;  /* values.schema.json text, or NULL */
	size_t schema_len;
	kd_chart_file *files; /* .Files, in load order */
	size_t nfiles;
	kd_chart_file *templates;
	size_t ntemplates;
	kd_chart **subs;     /* charts/ */
	size_t nsubs;
	kd_chart_budget *budget; /* the load's, shared by the tree */
};

/* What one load has used so far, shared by a chart and all its subcharts
 * (nested archives included): the limits hold for the whole tree, not per
 * archive, so archives of archives cannot multiply past them. */
struct kd_chart_budget {
	uint64_t inflated; /* bytes out of every decompressor */
	uint64_t bytes;    /* bytes of the files stored */
	size_t files;      /* files stored */
	size_t charts;     /* charts built */
	int depth;         /* subchart nesting now being loaded */
};

/* A raw file list as the loader collects it, and the load's budget. */
typedef struct kd_chart_raw {
	kd_chart_file *f;
	size_t n, cap;
	kd_chart_budget *b;
} kd_chart_raw;

int kd_chart_raw_add(kd_arena *a, kd_chart_raw *r, const char *name,
		     size_t nlen, const char *data, size_t len, kd_err *err);
/* Counts one file of size bytes read from a directory or an archive
 * against KD_LIMIT_CHART_FILES and KD_LIMIT_CHART_BYTES; what names it. */
int kd_chart_budget_file(kd_chart_budget *b, uint64_t size, const char *what,
			 kd_err *err);

/* Reads a gzip-compressed tar archive into r (names without their first
 * component). */
int kd_chart_untar(kd_arena *a, kd_chart_raw *r, const char *data,
		   size_t len, const char *what, kd_err *err);

/* Builds a chart from the files of one chart (names relative to it). */
int kd_chart_from_files(kd_chart **out, kd_arena *a, kd_chart_raw *r,
			const char *path, kd_err *err);

/* Go's filepath.Match (no separator crossing for * and ?). */
bool kd_chart_path_match(const char *pat, const char *s);

/* values.schema.json validation: appends "- path: message\n" lines for
 * every violation to out; returns the number of violations or < 0. */
int kd_chart_schema_validate(kd_buf *out, kd_arena *a, const char *schema,
			     size_t len, const kd_value *values,
			     kd_err *err);

/* chartutil's coalesceTablesFullKey: src fills in what dst (which has
 * precedence) lacks; without merge a null in dst deletes the key. */
void kd_chart_coalesce_tables(kd_arena *a, kd_value *dst, const kd_value *src,
			      bool merge);

#endif
