# plots/03-processes-startup.gp - Chapter 3's startup chart, from the
# harness's startup.tsv (way, how, mib, parent_rss_mib, count, median_us,
# q1_us, q3_us, p10_us, p90_us, vs_thread; see harness/03-processes-cost.c):
#
#   gnuplot -e "data='DIR/startup.tsv'" -e "out='DIR/startup.svg'" plots/03-processes-startup.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 12 cm
# wide. One line per way of starting a worker: the median time to start it
# and wait for it against the memory its parent has written, both axes
# logarithmic; the bars span the quartiles. C ways solid, Python's dashed.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='startup.tsv'\" -e \"out='startup.svg|pdf'\" plots/03-processes-startup.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 640,420 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 12cm,8cm enhanced font "Helvetica,10"
	} else {
		print "plots/03-processes-startup.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

# The ways, in the order of the file: each name once.
ways = " "
stats data using (w = strcol(1) . " ", \
	strstrt(ways, " " . w) == 0 ? ways = ways . w : 0, $6) name "t" nooutput
stats data using 3 name "m" nooutput

set logscale xy 10
set xrange [m_min / 1.5 : m_max * 1.5]
set yrange [t_min / 3 : t_max * 3]
set xtics ("1 MiB" 1, "4 MiB" 4, "16 MiB" 16, "64 MiB" 64, "256 MiB" 256, "1 GiB" 1024, \
	"4 GiB" 4096)
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1000, "10 ms" 10000, "100 ms" 100000, \
	"1 s" 1000000)
set xlabel "memory the parent has written (log scale)"
set ylabel "start a worker and wait for it (log scale)"
set grid xtics ytics back lc rgb "#dddddd"
set border 3
set tics nomirror
set key outside right center noenhanced

# Okabe-Ito colours, one per way.
colour(i) = word("#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000 #F0E442", (i - 1) % 8 + 1)
dash(w) = w[1:3] eq "py-" ? 2 : 1

plot for [i = 1 : words(ways)] data \
	using (strcol(1) eq word(ways, i) ? $3 : NaN):6:7:8 with yerrorlines \
	lw 2 pt 7 ps 0.6 dt dash(word(ways, i)) lc rgb colour(i) title word(ways, i)
