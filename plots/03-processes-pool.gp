# plots/03-processes-pool.gp - Chapter 3's pool chart, from the harness's
# pool.tsv (workers, tasks, rounds, threads_rate_median, threads_rate_min,
# threads_rate_max, processes_rate_median, processes_rate_min,
# processes_rate_max, ratio_median, ratio_min, ratio_max; see
# harness/03-processes.c):
#
#   gnuplot -e "data='DIR/pool.tsv'" -e "out='DIR/pool.svg'" plots/03-processes-pool.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Tasks per second against the number of workers: one line for
# Chapter 2's thread pool, one for this chapter's process pool (median over
# the rounds, bars from the lowest round to the highest), and under each
# process point its rate over the thread pool's.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='pool.tsv'\" -e \"out='pool.svg|pdf'\" plots/03-processes-pool.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,470 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,9.5cm enhanced font "Helvetica,10"
	} else {
		print "plots/03-processes-pool.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

stats data using 1 name "w" nooutput
stats data using 5 name "lo" nooutput
stats data using 6 name "hi" nooutput
stats data using 8 name "plo" nooutput
stats data using 9 name "phi" nooutput
ymin = (lo_min < plo_min ? lo_min : plo_min) / 1000.0
ymax = (hi_max > phi_max ? hi_max : phi_max) / 1000.0

set xrange [w_min - 0.5 : w_max + 0.5]
set xtics 1
set yrange [0 : ymax * 1.15]
set xlabel "workers (each a thread, or a process)"
set ylabel "thousand tasks per second"
set grid ytics back lc rgb "#dddddd"
set border 3
set tics nomirror
set key top left Left reverse noenhanced

# The ratio process/thread, written under each process point.
ratio(r) = sprintf("×%.2f", r)

# On a student's code (make book TREE=chapters) the Makefile passes
# -e "your='your '", and the curves of the student's code say so.
if (!exists("your")) { your = "" }
plot data using 1:($4 / 1000):($5 / 1000):($6 / 1000) with yerrorlines \
	lw 2 pt 7 lc rgb "#E69F00" title your . "thread pool (Chapter 2, pool_map)", \
     data using 1:($7 / 1000):($8 / 1000):($9 / 1000) with yerrorlines \
	lw 2 pt 5 lc rgb "#0072B2" title your . "process pool (ppool_map)", \
     data using 1:($7 / 1000):(ratio($10)) with labels left offset char 0.8, char -0.9 \
	font ",11" tc rgb "#0072B2" notitle
