/* kd_yaml_reader: libyaml's event stream behind core/yaml's own types, for
 * callers that scan documents instead of decoding them. */
#include "yaml/yaml.h"

#include <yaml.h>

#include <stdlib.h>

struct kd_yaml_reader {
	yaml_parser_t p;
	yaml_event_t e;
	bool have; /* e holds an event to delete */
};

int kd_yaml_reader_open(kd_yaml_reader **out, const char *text, size_t len,
			kd_err *err)
{
	kd_yaml_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (!r || !yaml_parser_initialize(&r->p)) {
		free(r);
		return kd_err_set(err, KD_ENOMEM, "out of memory reading YAML");
	}
	yaml_parser_set_input_string(&r->p, (const unsigned char *)text, len);
	*out = r;
	return 0;
}

static int events_error(const yaml_parser_t *p, kd_err *err)
{
	const char *what = p->problem ? p->problem : "unknown problem parsing YAML content";
	size_t line = 0;

	if (p->problem_mark.line)
		line = p->problem_mark.line + (p->error == YAML_SCANNER_ERROR);
	else if (p->context_mark.line)
		line = p->context_mark.line;
	if (line)
		return kd_err_set(err, KD_EPARSE, "yaml: line %zu: %s", line, what);
	return kd_err_set(err, KD_EPARSE, "yaml: %s", what);
}

static const kd_yaml_ev_type ev_types[] = {
	[YAML_STREAM_START_EVENT] = KD_YEV_STREAM_START,
	[YAML_STREAM_END_EVENT] = KD_YEV_STREAM_END,
	[YAML_DOCUMENT_START_EVENT] = KD_YEV_DOC_START,
	[YAML_DOCUMENT_END_EVENT] = KD_YEV_DOC_END,
	[YAML_ALIAS_EVENT] = KD_YEV_ALIAS,
	[YAML_SCALAR_EVENT] = KD_YEV_SCALAR,
	[YAML_SEQUENCE_START_EVENT] = KD_YEV_SEQ_START,
	[YAML_SEQUENCE_END_EVENT] = KD_YEV_SEQ_END,
	[YAML_MAPPING_START_EVENT] = KD_YEV_MAP_START,
	[YAML_MAPPING_END_EVENT] = KD_YEV_MAP_END,
};

int kd_yaml_reader_next(kd_yaml_reader *r, kd_yaml_ev *ev, kd_err *err)
{
	yaml_event_t *e = &r->e;

	if (r->have) {
		yaml_event_delete(e);
		r->have = false;
	}
	if (!yaml_parser_parse(&r->p, e))
		return events_error(&r->p, err);
	r->have = true;
	if (e->type <= YAML_NO_EVENT ||
	    (size_t)e->type >= sizeof ev_types / sizeof ev_types[0])
		return kd_err_set(err, KD_EINTERNAL, "libyaml gave an unknown event %d",
				  (int)e->type);
	ev->type = ev_types[e->type];
	ev->s = NULL;
	ev->n = 0;
	ev->plain = false;
	ev->implicit = false;
	if (e->type == YAML_SCALAR_EVENT) {
		ev->s = (const char *)e->data.scalar.value;
		ev->n = e->data.scalar.length;
		ev->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	} else if (e->type == YAML_DOCUMENT_START_EVENT) {
		ev->implicit = e->data.document_start.implicit;
	}
	return 0;
}

void kd_yaml_reader_close(kd_yaml_reader *r)
{
	if (!r)
		return;
	if (r->have)
		yaml_event_delete(&r->e);
	yaml_parser_delete(&r->p);
	free(r);
}
