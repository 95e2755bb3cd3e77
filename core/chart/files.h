/* Between core/chart's funcs.c and files.c only. */
#ifndef KD_CHART_FILES_H
#define KD_CHART_FILES_H

#include "tmpl/tmpl.h"

/* Adds .Files' methods, APIVersions.Has and the top-level object's
 * structs to fs. */
void kd_chart_register_files(kd_tmpl_funcs *fs);

#endif
