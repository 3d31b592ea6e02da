# plots/04-workloads-crossover.gp - Chapter 4's crossover chart, from the
# harness's crossover.tsv (task_numbers, tasks, rounds, task_serial_s,
# threads_speedup_median, threads_speedup_min, threads_speedup_max,
# processes_speedup_median, processes_speedup_min, processes_speedup_max;
# see harness/04-workloads.c):
#
#   gnuplot -e "data='DIR/crossover.tsv'" -e "out='DIR/crossover.svg'" plots/04-workloads-crossover.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Speedup of two threads and of two processes started for every task,
# against the task's size (numbers tested by is_prime, log scale); bars from
# the lowest round to the highest; the line at 1 is where starting workers
# begins to pay.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='crossover.tsv'\" -e \"out='crossover.svg|pdf'\" plots/04-workloads-crossover.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,470 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,9.5cm enhanced font "Helvetica,10"
	} else {
		print "plots/04-workloads-crossover.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders

stats data using 1 name "n" nooutput
stats data using 6 name "tlo" nooutput
stats data using 9 name "plo" nooutput
stats data using 7 name "thi" nooutput
stats data using 10 name "phi" nooutput
ymax = (thi_max > phi_max ? thi_max : phi_max)
ymax = ymax < 2 ? 2 : ymax

set logscale x 2
set xrange [n_min / 1.6 : n_max * 1.6]
set yrange [0 : ymax * 1.1]
set xlabel "numbers per task (is\\_prime from 10^9; log scale)"
set ylabel "speedup over serial, 2 workers per task"
set format y "%gx"
set grid back lc rgb "#dddddd"
set border 3
set tics nomirror
set key top left Left reverse box lc rgb "#bbbbbb" opaque

# On a student's code (make book TREE=chapters) the Makefile passes
# -e "your='your '", and the curves of the student's code say so.
if (!exists("your")) { your = "" }
whose = (your eq "") ? "" : "your code, "
plot data using 1:5:6:7 with yerrorlines lw 2 pt 7 lc rgb "#0072B2" \
	title whose . "2 new threads per task", \
     data using 1:8:9:10 with yerrorlines lw 2 pt 5 lc rgb "#D55E00" \
	title whose . "2 new processes per task", \
     1 with lines dt 3 lw 1.5 lc rgb "#777777" title "break-even (×1)"
