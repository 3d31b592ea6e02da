# plots/03-processes-ppool-workers-timeline.gp - Chapter 3's timeline of the process
# pool losing a worker and replacing it, from the harness's
# ppool-workers-timeline.tsv (row, label, kind, task, start_ms, end_ms, text; see
# the ppool-workers experiment in harness/03-processes.c):
#
#   gnuplot -e "data='DIR/ppool-workers-timeline.tsv'" -e "out='DIR/ppool-workers-timeline.svg'" plots/03-processes-ppool-workers-timeline.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Time on x. One row per worker process, by pid, in order of
# appearance; a bar per task it ran, labelled with the task's number, the
# task that crashed its worker in vermillion, a cross where that worker
# died and a diamond where its replacement started its first task, each
# mark named just above it.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='ppool-workers-timeline.tsv'\" -e \"out='ppool-workers-timeline.svg|pdf'\" plots/03-processes-ppool-workers-timeline.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,360 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,7.6cm enhanced font "Helvetica,10"
	} else {
		print "plots/03-processes-ppool-workers-timeline.gp: out must end in .svg or .pdf: ", out
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
at(kind) = strcol(3) eq kind ? $5 : NaN
mid(kind) = strcol(3) eq kind ? ($5 + $6) / 2 : NaN

set xrange [0 : t_max * 1.03]
set yrange [row_max + 0.6 : row_min - 0.8]
set xlabel "ms since ppool_map() was called" noenhanced
set ytics scale 0 noenhanced
set grid xtics back lc rgb "#dddddd"
set border 1
set tics nomirror
set xtics out
unset key

plot data using (mid("task")):1:5:6:($1 - 0.28):($1 + 0.28):ytic(2) \
	with boxxyerror fs solid 0.35 border lc rgb "#0072B2" lc rgb "#56B4E9", \
     data using (mid("crashed")):1:5:6:($1 - 0.28):($1 + 0.28) \
	with boxxyerror fs solid 0.5 border lc rgb "#D55E00" lc rgb "#D55E00", \
     data using (is("task") || is("crashed") ? ($5 + $6) / 2 : NaN):1:7 \
	with labels font ",11" noenhanced, \
     data using (at("died")):1 with points pt 2 ps 2.2 lw 3 lc rgb "#D55E00", \
     data using (at("died")):($1 - 0.5):7 with labels font ",10" tc rgb "#D55E00" noenhanced, \
     data using (at("replaced")):1 with points pt 13 ps 1.8 lc rgb "#009E73", \
     data using (at("replaced")):($1 - 0.5):7 with labels font ",10" tc rgb "#007A58" noenhanced
