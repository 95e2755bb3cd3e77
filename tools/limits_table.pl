#!/usr/bin/perl
# Prints README's "Limits" table from core/base/limits.h: one row per
# comment there, with the limits it documents and their values (shifts
# shown in KiB/MiB/GiB). tests/e2e/t0006-limits.sh checks README holds
# exactly this table. Usage: tools/limits_table.pl [core/base/limits.h]
use strict;
use warnings;

my $file = shift // 'core/base/limits.h';
open(my $fh, '<', $file) or die "$file: $!\n";
my (@rows, $comment, $in);
while (my $line = <$fh>) {
	if ($line =~ m{^\s*/\*\s?(.*)$}) {
		$comment = '';
		$in = 1;
		$line = $1;
	}
	if ($in) {
		my $end = $line =~ s{\s*\*/\s*$}{};
		$line =~ s{^\s*\*\s?}{};
		chomp $line;
		$comment .= ($comment eq '' ? '' : ' ') . $line;
		if ($end) {
			$in = 0;
			push @rows, {what => $comment, names => [], values => []};
		}
		next;
	}
	if ($line =~ /^#define\s+(KD_LIMIT_\w+)\s+(.+?)\s*$/ && @rows) {
		push @{$rows[-1]{names}}, "`$1`";
		push @{$rows[-1]{values}}, value($2);
	}
}
close $fh;

sub value {
	my ($expr) = @_;
	(my $e = $expr) =~ s/(\d+)[uU][lL]*/$1/g;
	die "cannot read the value $expr\n" unless $e =~ /^[\d\s()<>*+]+$/;
	my $v = eval $e;
	die "cannot evaluate $expr\n" unless defined $v;
	if ($expr =~ /<</) {
		for my $u (['GiB', 1 << 30], ['MiB', 1 << 20], ['KiB', 1 << 10]) {
			return ($v / $u->[1]) . " $u->[0]" if $v % $u->[1] == 0;
		}
	}
	1 while $v =~ s/^(\d+)(\d{3})/$1,$2/;
	return $v;
}

print "| limit | value | what it bounds |\n| --- | --- | --- |\n";
for my $r (@rows) {
	next unless @{$r->{names}};
	(my $what = $r->{what}) =~ s/\|/\\|/g;
	printf "| %s | %s | %s |\n", join('<br>', @{$r->{names}}), join('<br>', @{$r->{values}}), $what;
}
