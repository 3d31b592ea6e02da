# plots/01-gil-switching-timeline.gp - Chapter 1's timeline of the toy GIL, from the
# harness's switching-timeline.tsv (run, thread, row, event, start_ms, end_ms,
# drop_requests, switch_number; see the switching experiment in
# harness/01-gil.c):
#
#   gnuplot -e "data='DIR/switching-timeline.tsv'" -e "out='DIR/switching-timeline.svg'" plots/01-gil-switching-timeline.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo), 16 cm
# wide. Two panels, the run with forced switching above the one without,
# on one time axis. In each, one row per thread (CPU 1, CPU 2, blocking):
# a bar in the thread's colour where it held the GIL, a thin grey bar where
# the blocking thread waited for its I/O without the GIL, a thin outline
# in its colour where its I/O was done and it waited for the GIL, and above
# the holder's bar a triangle where it saw a drop request: filled if
# another thread had the GIL before the holder got it back (a forced
# switch), open if the holder took it straight back. Where a CPU thread's
# row is empty, it was waiting for the GIL.

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='switching-timeline.tsv'\" -e \"out='switching-timeline.svg|pdf'\" plots/01-gil-switching-timeline.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,620 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,13cm enhanced font "Helvetica,9"
	} else {
		print "plots/01-gil-switching-timeline.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out
set encoding utf8

set datafile separator "\t"
set datafile columnheaders
# Rows filtered out become NaN; as "missing" they draw nothing.
set datafile missing NaN

# Row filters: x and widths in ms, y the thread's row.
is(r, e) = (strcol(1) eq r && strcol(4) eq e)
mid(r, e) = is(r, e) ? ($5 + $6) / 2 : NaN

# The run's length and, per panel, what its title counts.
stats data using 6 name "t" nooutput
stats data using (is("forced", "request")) name "fr" nooutput
stats data using (is("forced", "switch")) name "fs" nooutput
stats data using (is("forced", "wait")) name "fw" nooutput
stats data using (is("unforced", "request")) name "ur" nooutput
stats data using (is("unforced", "switch")) name "us" nooutput
stats data using (is("unforced", "wait")) name "uw" nooutput

# Okabe-Ito colours, as plots/speedup.gp: one per thread, by row.
colour(row) = row == 3 ? 0x0072B2 : row == 2 ? 0xD55E00 : 0x009E73
io_colour = 0x999999

half = 0.32
# The SVG is set in a larger font for its width than the PDF: larger marks and titles too.
mark_ps = (ext eq "pdf") ? 1.1 : 1.6
title_font = (ext eq "pdf") ? ",9" : ",12"

# One panel's series. Holds and I/O share one series, and both kinds of
# drop-request marks another (a switch row follows its request row, so its
# filled triangle covers the open one): a series with no point at all only
# makes gnuplot warn, and a run may have no I/O or no hand-over. The waits
# are outlines, a series of their own, left out of a run that has none.
is_bar(r) = is(r, "hold") || is(r, "io")
bar_x(r) = is_bar(r) ? ($5 + $6) / 2 : NaN
bar_dy(r) = is(r, "hold") ? half : 0.07
bar_colour(r) = is(r, "hold") ? colour($3) : io_colour
mark_x(r) = (is(r, "request") || is(r, "switch")) ? $5 : NaN
mark_pt(r) = is(r, "switch") ? 11 : 10
bars(r) = sprintf("data using (bar_x('%s')):3:(($6 - $5) / 2):(bar_dy('%s')):(bar_colour('%s')) \
	with boxxyerror lc rgb variable notitle, ", r, r, r)
waits(r, n) = n == 0 ? "" : sprintf("data using (mid('%s', 'wait')):3:(($6 - $5) / 2):(0.12):(colour($3)) \
	with boxxyerror fs empty border lc rgb variable lc rgb variable lw 1.2 notitle, ", r)
marks(r) = sprintf("data using (mark_x('%s')):($3 + 0.52):(mark_pt('%s')) \
	with points pt variable ps mark_ps lc rgb '#000000' notitle", r, r)

set xrange [0:ceil(t_max)]
set yrange [0.4:3.75]
set ytics ("CPU 1" 3, "CPU 2" 2, "blocking" 1) scale 0
set xtics nomirror out
set mxtics 5
set grid xtics mxtics back lc rgb "#eeeeee", lc rgb "#f6f6f6"
set border 1
set style fill solid 1.0 noborder

set multiplot
set lmargin at screen 0.13
set rmargin at screen 0.97

panel(what, seen, handed) = sprintf("%s: %d drop requests seen, %d handed over", \
	what, seen, handed)

set tmargin at screen 0.95
set bmargin at screen 0.63
set format x ""
# On a student's code (make book TREE=chapters) the Makefile passes
# -e "your='your '", and the curves of the student's code say so.
if (!exists("your")) { your = "" }
the_gil = (your eq "") ? "the GIL" : "your GIL"
set title panel("with forced switching", fr_sum, fs_sum) offset 0,-0.6 font title_font
unset key
plot_forced = bars("forced") . waits("forced", fw_sum) . marks("forced")
plot @plot_forced

set tmargin at screen 0.56
set bmargin at screen 0.22
set format x "%g"
set xlabel "time since CPU 1 took the GIL (ms)"
set title panel("without forced switching", ur_sum, us_sum) offset 0,-0.6 font title_font
set key at screen 0.5, 0.01 center bottom horizontal maxcols 3 Left reverse samplen 1.5 \
	spacing 1.1 width -1 font ",11"
plot_unforced = bars("unforced") . waits("unforced", uw_sum) . marks("unforced")
plot @plot_unforced, \
     NaN with boxes lc rgb "#555555" title "held " . the_gil, \
     NaN with boxes lc rgb io_colour title "in its I/O, without " . the_gil, \
     NaN with boxes fs empty border lc rgb "#009E73" lc rgb "#009E73" lw 1.2 title "I/O done, waiting for " . the_gil, \
     NaN with points pt 11 ps mark_ps lc rgb "#000000" title "drop request: handed over", \
     NaN with points pt 10 ps mark_ps lc rgb "#000000" title "drop request: taken back"
unset multiplot
