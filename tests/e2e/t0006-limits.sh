# README's Limits table is what tools/limits_table.pl makes of
# core/base/limits.h: every limit documented, with its current value.
. tests/lib.sh
want=$(perl tools/limits_table.pl core/base/limits.h)
is "$?" 0 "tools/limits_table.pl reads limits.h"
got=$(sed -n '/^<!-- limits table: tools\/limits_table.pl -->$/,/^<!-- end of the limits table -->$/p' README.md | sed '1d;$d')
is "$got" "$want" "README's Limits table is current (regenerate: tools/limits_table.pl)"
n=$(grep -c '^#define KD_LIMIT_' core/base/limits.h)
is "$(printf '%s\n' "$want" | grep -o '`KD_LIMIT_[A-Z0-9_]*`' | wc -l)" "$n" "every limit of limits.h is in it"
done_testing
