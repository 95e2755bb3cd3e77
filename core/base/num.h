/* Number formatting the way Go's strconv does it: the templates, toYaml,
 * toJson and printf all print numbers as Helm (Go) prints them, so kedge
 * needs Go's rules, not C's. */
#ifndef KD_BASE_NUM_H
#define KD_BASE_NUM_H

#include "base/buf.h"

#include <stdint.h>

/* The shortest decimal digits that read back as exactly f (|f| finite,
 * non-zero): f = 0.DIGITS x 10^dp. Returns the digit count (1..17). */
int kd_num_shortest(double f, char digits[32], int *dp);

/* strconv.FormatFloat(f, fmt, prec, 64) for fmt in 'e','E','f','g','G';
 * prec -1 means the shortest representation that round-trips. */
int kd_num_format_float(kd_buf *out, double f, char fmt, int prec);

/* strconv.FormatInt(i, 10). */
int kd_num_format_int(kd_buf *out, int64_t i);

#endif
