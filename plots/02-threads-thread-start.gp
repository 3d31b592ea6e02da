# plots/02-threads-thread-start.gp - Chapter 2's thread-start chart, from
# the harness's thread-start.tsv (method, calls, count, median_us, q1_us,
# q3_us, p10_us, p90_us, vs_thread; see harness/02-threads.c):
#
#   gnuplot -e "data='DIR/thread-start.tsv'" -e "out='DIR/thread-start.svg'" plots/02-threads-thread-start.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 12 cm
# wide. One box per method on a logarithmic time axis: the box from the
# first to the third quartile, the black bar the median (its value
# written beside it), the whiskers from the 10th to the 90th percentile.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='thread-start.tsv'\" -e \"out='thread-start.svg|pdf'\" plots/02-threads-thread-start.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 600,360 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 12cm,7.2cm enhanced font "Helvetica,10"
	} else {
		print "plots/02-threads-thread-start.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

stats data using 7 name "lo" nooutput
stats data using 8 name "hi" nooutput
n = lo_records

# Times in microseconds, shown as µs or ms.
us(t) = t < 1000 ? sprintf("%.3g µs", t) : sprintf("%.3g ms", t / 1000)
set xlabel font ",11"

set logscale y 10
set yrange [lo_min / 2 : hi_max * 3]
set xrange [-0.6 : n - 0.4]
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1000, "10 ms" 10000, "100 ms" 100000)
set ylabel "wall time of one (log scale)"
set xlabel "box: quartiles; bar: median; whiskers: 10th to 90th percentile"
set grid ytics back lc rgb "#dddddd"
set border 3
set tics nomirror
set xtics scale 0 noenhanced
set boxwidth 0.4
unset key

plot data using 0:5:7:8:6:xtic(2) with candlesticks whiskerbars 0.5 \
	lw 1.5 lc rgb "#0072B2" fs solid 0.25 border lc rgb "#0072B2", \
     data using 0:4:4:4:4 with candlesticks lw 3 lc rgb "#000000", \
     data using ($0 + 0.25):4:(us($4)) with labels left offset char 0.5, char 0 font ",12"
