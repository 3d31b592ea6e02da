# plots/02-threads-pool-workers-timeline.gp - Chapter 2's timeline of the thread
# pool, from the harness's pool-workers-timeline.tsv (row, label, kind, task,
# start_ms, end_ms, text; see the pool-workers experiment in
# harness/02-threads.c):
#
#   gnuplot -e "data='DIR/pool-workers-timeline.tsv'" -e "out='DIR/pool-workers-timeline.svg'" plots/02-threads-pool-workers-timeline.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Time on x. One row per worker, a bar per task it ran, labelled with
# the task's number; above them, a mark where pool_submit() returned, and
# below, where pool_wait() returned, each labelled with the tasks whose
# calls returned together (labels alternately above and below their mark,
# so that neighbours do not overlap).

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='pool-workers-timeline.tsv'\" -e \"out='pool-workers-timeline.svg|pdf'\" plots/02-threads-pool-workers-timeline.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,380 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,8cm enhanced font "Helvetica,10"
	} else {
		print "plots/02-threads-pool-workers-timeline.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

stats data using 1 name "row" nooutput
stats data using 6 name "t" nooutput

is(kind) = strcol(3) eq kind
mark(kind) = strcol(3) eq kind ? $5 : NaN
# Alternate a mark's label above and below it; lane flips at every mark.
lane = 0
flip(r) = (lane = 1 - lane, r + (lane ? -0.34 : 0.34))

set xrange [0 : t_max * 1.03]
set yrange [row_max + 0.7 : row_min - 0.7]
set xlabel "ms since the first pool_submit()" noenhanced
set ytics scale 0 noenhanced
set grid xtics back lc rgb "#dddddd"
set border 1
set tics nomirror
set xtics out
unset key

plot data using (is("task") ? ($5 + $6) / 2 : NaN):1:5:6:($1 - 0.3):($1 + 0.3):ytic(2) \
	with boxxyerror fs solid 0.35 border lc rgb "#0072B2" lc rgb "#56B4E9", \
     data using (is("task") ? ($5 + $6) / 2 : NaN):1:7 with labels font ",11" noenhanced, \
     data using (mark("submitted")):1:($6 - $5):(0):ytic(2) with vectors nohead \
	lw 2 lc rgb "#E69F00", \
     data using (mark("submitted")):1 with points pt 9 ps 1.1 lc rgb "#E69F00", \
     data using (mark("submitted")):(flip($1)):7 with labels font ",10" tc rgb "#B07800" noenhanced, \
     data using (mark("collected")):1:($6 - $5):(0):ytic(2) with vectors nohead \
	lw 2 lc rgb "#009E73", \
     data using (mark("collected")):1 with points pt 11 ps 1.1 lc rgb "#009E73", \
     data using (mark("collected")):(flip($1)):7 with labels font ",10" tc rgb "#007A58" noenhanced
