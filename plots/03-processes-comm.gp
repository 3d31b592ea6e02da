# plots/03-processes-comm.gp - Chapter 3's comm chart, from the harness's
# comm.tsv (bytes, way, count, median_us, q1_us, q3_us, p10_us, p90_us,
# gibps_median, gibps_q1, gibps_q3, ratio, ratio_to; see
# harness/03-processes-cost.c):
#
#   gnuplot -e "data='DIR/comm.tsv'" -e "out='DIR/comm.svg'" plots/03-processes-comm.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 12 cm
# wide. Throughput against the number of bytes moved, both axes
# logarithmic: a pipe and shared memory between two processes, and memcpy
# in one process, the limit; the bars span the quartiles. The crossover
# rows (serial, two-pipe, two-shared) are in the table, not here.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='comm.tsv'\" -e \"out='comm.svg|pdf'\" plots/03-processes-comm.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 700,400 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 13cm,7.5cm enhanced font "Helvetica,10"
	} else {
		print "plots/03-processes-comm.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

moving(w) = w eq "pipe" || w eq "shared" || w eq "memcpy"
stats data using (moving(strcol(2)) ? $1 : NaN) name "b" nooutput
stats data using (moving(strcol(2)) ? $10 : NaN) name "lo" nooutput
stats data using (moving(strcol(2)) ? $11 : NaN) name "hi" nooutput

set logscale xy 2
set xrange [b_min / 1.5 : b_max * 1.5]
set yrange [lo_min / 2 : hi_max * 2]
set xtics ("4 KiB" 4096, "64 KiB" 65536, "1 MiB" 1048576, "16 MiB" 16777216, \
	"256 MiB" 268435456, "4 GiB" 4294967296.)
set mxtics 4
set ytics ("1/16" 0.0625, "1/4" 0.25, "1" 1, "4" 4, "16" 16, "64" 64, "256" 256)
set xlabel "bytes moved (log scale)"
set ylabel "GiB per second (log scale)"
set grid xtics ytics back lc rgb "#dddddd"
set border 3
set tics nomirror
set key outside right center noenhanced

plot data using (strcol(2) eq "memcpy" ? $1 : NaN):9:10:11 with yerrorlines \
	lw 2 pt 7 ps 0.6 lc rgb "#000000" dt 2 title "memcpy, one process", \
     data using (strcol(2) eq "shared" ? $1 : NaN):9:10:11 with yerrorlines \
	lw 2 pt 7 ps 0.6 lc rgb "#009E73" title "shared memory", \
     data using (strcol(2) eq "pipe" ? $1 : NaN):9:10:11 with yerrorlines \
	lw 2 pt 7 ps 0.6 lc rgb "#0072B2" title "pipe"
