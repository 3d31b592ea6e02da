# plots/02-threads-counter.gp - Chapter 2's counter chart, from the
# harness's counter.tsv (way, function, threads, rounds, increments,
# rate_median, rate_min, rate_q1, rate_q3, rate_max, vs_one_thread,
# lost_pct_median, lost_pct_min, lost_pct_max; see harness/02-threads.c):
#
#   gnuplot -e "data='DIR/counter.tsv'" -e "out='DIR/counter.svg'" plots/02-threads-counter.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Increments per second against the number of threads, both on log
# scales: one line per way of counting (median over the rounds, bars from
# the lowest round to the highest). Under each point of a way that loses
# updates (racy), the share it lost. The ways are read from the data, in
# its order.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='counter.tsv'\" -e \"out='counter.svg|pdf'\" plots/02-threads-counter.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,500 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,10.5cm enhanced font "Helvetica,10"
	} else {
		print "plots/02-threads-counter.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders
# Rows of other functions become NaN; as "missing" they do not break the lines.
set datafile missing NaN

index_of(list, w, i) = (i > words(list)) ? 0 : (word(list, i) eq w ? i : index_of(list, w, i + 1))
funcs = ""
stats data using (f = strcol(1), \
	index_of(funcs, f, 1) == 0 ? (funcs = funcs . " " . f, 0) : 0, $3) nooutput
max_threads = STATS_max
n = words(funcs)
if (n == 0) {
	print "plots/02-threads-counter.gp: no rows in ", data
	exit status 1
}
# The y range must hold the bars too, which autoscaling leaves out.
stats data using 7 name "lo" nooutput
stats data using 10 name "hi" nooutput

# Okabe-Ito colours, distinguishable with any colour vision.
colours = "#D55E00 #0072B2 #009E73 #CC79A7 #E69F00 #56B4E9 #000000"
colour(i) = word(colours, (i - 1) % words(colours) + 1)
# On a student's code (make book TREE=chapters) the Makefile passes
# -e "your='your '", and the curves of the student's code say so.
if (!exists("your")) { your = "" }
name(f) = f eq "packed" ? "packed: per-thread counters, eight to a cache line" : \
	  f eq "racy" ? "racy (under each point: updates lost)" : \
	  f eq "per-thread" ? your . "per-thread: a cache line each" : your . f

set logscale x 2
set logscale y 10
set xrange [0.8:max_threads * 1.25]
set yrange [lo_min / 2 : hi_max * 2]
set xtics 1, 2
set format y "%.0s%c"
set xlabel "threads (median over the rounds; bars: lowest to highest round)"
set ylabel "increments per second"
set grid back lc rgb "#dddddd"
set key below Left reverse spacing 1.1 font ",11"
set border 3
set tics nomirror
set bars small

on(i) = (strcol(1) eq word(funcs, i))
# Nudge the functions sideways so that their bars do not hide each other.
xs(i) = $3 * (1 + 0.03 * (i - (n + 1) / 2.0))
lost_label(i) = (on(i) && $14 > 0) ? sprintf("%.0f%%", $12) : ""

plot for [i = 1:n] data using (on(i) ? xs(i) : NaN):6:7:10 \
	with yerrorlines lw 2 pt 7 ps 0.8 lc rgb colour(i) title name(word(funcs, i)), \
     for [i = 1:n] data using (on(i) ? xs(i) : NaN):6:(lost_label(i)) \
	with labels offset char 0, char -1.1 font ",10" tc rgb colour(i) notitle
