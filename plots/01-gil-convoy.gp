# plots/01-gil-convoy.gp - Chapter 1's convoy chart, from the harness's
# convoy.tsv (implementation, interval_us, spinner, count, median_us,
# q1_us, q3_us; see harness/01-gil.c):
#
#   gnuplot -e "data='DIR/convoy.tsv'" -e "out='DIR/convoy.svg'" plots/01-gil-convoy.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Round-trip time against the switch interval, both on log scales: a
# solid line per implementation beside the spinning thread (median, bars
# from the first to the third quartile), the same colour dashed for the
# idle round trip, and the switch interval itself dotted for scale.
# Implementations are read from the data: without python3, no CPython line.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='convoy.tsv'\" -e \"out='convoy.svg|pdf'\" plots/01-gil-convoy.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,560 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,11cm enhanced font "Helvetica,9"
	} else {
		print "plots/01-gil-convoy.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders
# Rows filtered out become NaN; as "missing" they do not break the lines.
set datafile missing NaN

index_of(list, w, i) = (i > words(list)) ? 0 : (word(list, i) eq w ? i : index_of(list, w, i + 1))
impls = ""
stats data using (m = strcol(1), \
	index_of(impls, m, 1) == 0 ? (impls = impls . " " . m, 0) : 0, $2) nooutput
n = words(impls)

colours = "#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #000000"
colour(i) = word(colours, (i - 1) % words(colours) + 1)
# On a student's code (make book TREE=chapters) the Makefile passes
# -e "your='your '", and the curves of the student's code say so.
if (!exists("your")) { your = "" }
name(m) = m eq "toy-forced" ? your . "toy GIL, forced switching" : \
	  m eq "toy-unforced" ? your . "toy GIL, no forced switching" : \
	  m eq "cpython" ? "CPython" : m

set logscale xy 10
set xrange [0.8:25]
# The y range must hold the error bars too, which autoscaling leaves out.
stats data using ($6 / 1e6) name "lo" nooutput
stats data using ($7 / 1e6) name "hi" nooutput
set yrange [lo_min / 1.5 : hi_max * 1.5]
set xtics ("1" 1, "2" 2, "5" 5, "10" 10, "20" 20)
set ytics ("1 µs" 1e-6, "10 µs" 1e-5, "100 µs" 1e-4, "1 ms" 1e-3, "10 ms" 1e-2, \
	   "100 ms" 0.1, "1 s" 1, "10 s" 10)
set xlabel "switch interval (ms)"
set ylabel "echo round trip (median; bars: quartiles)"
set grid back lc rgb "#dddddd"
set key below Left reverse maxrows 4 spacing 1.1 font ",11"
set border 3
set tics nomirror
set bars small

# Row filters: x in ms, y in seconds, for one implementation, spinner on/off.
on(i, s) = (strcol(1) eq word(impls, i) && strcol(3) eq s)
xs(i) = $2 / 1000 * (1 + 0.04 * (i - (n + 1) / 2.0))

plot for [i = 1:n] data using (on(i, "on") ? xs(i) : NaN):($5 / 1e6):($6 / 1e6):($7 / 1e6) \
	with yerrorlines lw 2 pt 7 ps 0.8 lc rgb colour(i) \
	title name(word(impls, i)) . ", beside a spinner", \
     for [i = 1:n] data using (on(i, "off") ? xs(i) : NaN):($5 / 1e6) \
	with linespoints lw 1.5 dt 2 pt 6 ps 0.8 lc rgb colour(i) \
	title name(word(impls, i)) . ", idle", \
     data using ($2 / 1000):($2 / 1e6) with lines dt 3 lw 1.5 lc rgb "#777777" \
	title "one switch interval"
