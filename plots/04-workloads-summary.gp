# plots/04-workloads-summary.gp - Chapter 4's summary heat map, from the
# harness's summary.tsv (workload, mode, x, y, workers, speedup; see
# harness/04-workloads.c): one row per workload, one column per mode, the
# colour and the number in each cell the median speedup at the mode's most
# workers; an empty cell was not measured.
#
#   gnuplot -e "data='DIR/summary.tsv'" -e "out='DIR/summary.svg'" plots/04-workloads-summary.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm wide.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='summary.tsv'\" -e \"out='summary.svg|pdf'\" plots/04-workloads-summary.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,520 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,11cm enhanced font "Helvetica,10"
	} else {
		print "plots/04-workloads-summary.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders
set datafile missing NaN

# The tics: each workload's and mode's name at its row and column.
stats data using 3 name "x" nooutput
stats data using 4 name "y" nooutput
set xtics () scale 0 noenhanced
set ytics () scale 0 noenhanced
do for [i = 0 : int(x_max)] {
	stats data using ($3 == i ? (label = strcol(2), 0) : 0) nooutput
	eval sprintf("set xtics add ('%s' %d)", label, i)
}
do for [j = 0 : int(y_max)] {
	stats data using ($4 == j ? (label = strcol(1), 0) : 0) nooutput
	eval sprintf("set ytics add ('%s' %d)", label, j)
}
set xrange [-0.5 : x_max + 0.5]
set yrange [y_max + 0.5 : -0.5]
set x2label "speedup at the most workers (C: over serial; py-: over py-serial)"
set border 0
unset key
# Red below 1 (slower than serial), white at 1, blue up to the best.
set cbrange [0 : 2.5]
set palette defined (0 "#D55E00", 1 "#ffffff", 2.5 "#0072B2")
set cblabel "speedup"
set style fill solid 1.0 border rgb "#ffffff"

plot data using 3:4:(0.5):(0.5):($6) with boxxyerror lc palette, \
     data using 3:4:($6 == $6 ? sprintf("×%.2f", $6) : "") with labels font ",12" tc rgb "#000000"
