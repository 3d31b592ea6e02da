# plots/speedup.gp - every speedup chart of every chapter, from the
# harness's speedup-W.tsv (columns: see harness/bench.h):
#
#   gnuplot -e "data='DIR/speedup-cpu.tsv'" -e "out='DIR/speedup-cpu.svg'" plots/speedup.gp
#
# out ending in .svg: SVG for the HTML book; in .pdf: PDF (cairo) for the
# PDF book, 16 cm wide. Both are vector. Optional: -e "title='...'".
#
# One line per mode: the speedup of median times over the rounds, bars for
# its 95% bootstrap interval (speedup_ci_low to speedup_ci_high), and the
# ideal (= workers) dashed.
# Modes are read from the data, so a chapter's own modes appear by
# themselves and Python modes simply vanish when python3 was absent. A
# mode and its twins share a colour: the family column names, for each
# row, the C mode it mirrors (py-threads: gil, say). Python modes are
# dashed (a second Python mode of the same family dash-dotted), and the x
# axis's label says what python3 was (the runtime column). Baselines
# (serial, py-serial) are one point at (1, 1) by definition: left out.
#
# On a student's code (make bench TREE=chapters, tools/bench-yours), two
# more: -e "mine='gil pool'" names the modes that ran the student's code,
# drawn as "your gil", and -e "ref='DIR/reference/speedup-W.tsv'" the same
# modes measured on the reference right after, each drawn thin in its
# mode's colour with open squares, "reference gil".

if (!exists("data") || !exists("out")) {
	print "usage: gnuplot -e \"data='speedup-W.tsv'\" -e \"out='speedup-W.svg|pdf'\" plots/speedup.gp"
	exit status 2
}
ext = out[strlen(out) - 2:]
if (ext eq "svg") {
	set terminal svg size 760,470 dynamic enhanced font "Helvetica,14" background "white"
} else {
	if (ext eq "pdf") {
		set terminal pdfcairo size 16cm,9.5cm enhanced font "Helvetica,10"
	} else {
		print "plots/speedup.gp: out must end in .svg or .pdf: ", out
		exit status 2
	}
}
set output out

set datafile separator "\t"
set datafile columnheaders
# Rows of other modes become NaN; as "missing" they do not break the lines.
set datafile missing NaN
set encoding utf8

# The modes in the order of the file, without baselines; beside each its
# family; the families in order, one colour each; what ran the py- rows.
base(m) = (m[1:3] eq "py-") ? m[4:] : m
is_baseline(m) = (base(m) eq "serial")
is_py(m) = (m[1:3] eq "py-")
index_of(list, w, i) = (i > words(list)) ? 0 : (word(list, i) eq w ? i : index_of(list, w, i + 1))
family_of(m) = strcol(13)
modes = ""
fams = ""
families = ""
runtime = ""
stats data using (m = strcol(1), \
	(!is_baseline(m) && index_of(modes, m, 1) == 0) ? \
		(modes = modes . " " . m, fams = fams . " " . family_of(m), 0) : 0, \
	(!is_baseline(m) && index_of(families, family_of(m), 1) == 0) ? \
		(families = families . " " . family_of(m), 0) : 0, \
	(is_py(m) && runtime eq "" && strcol(14) ne "") ? (runtime = strcol(14), 0) : 0, \
	$2) nooutput
max_workers = STATS_max
n = words(modes)
if (n == 0) {
	print "plots/speedup.gp: no mode other than a baseline in ", data
	exit status 1
}

# Okabe-Ito colours, distinguishable with any colour vision.
colours = "#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000"
colour(i) = word(colours, (index_of(families, word(fams, i), 1) - 1) % words(colours) + 1)
# How many Python modes before mode i share its family: 0 dashed, 1 dash-dotted.
twins_before(i, j) = (j >= i) ? 0 : \
	((is_py(word(modes, j)) && word(fams, j) eq word(fams, i)) + twins_before(i, j + 1))
dash(i) = !is_py(word(modes, i)) ? 1 : (twins_before(i, 1) == 0 ? 2 : 4)
point(i) = is_py(word(modes, i)) ? (twins_before(i, 1) == 0 ? 6 : 8) : 7

# Many worker counts (1, 2, 4, 8, 16): logarithmic axes, on which the
# ideal line is straight and the counts evenly spaced.
if (max_workers >= 8) {
	set logscale xy 2
	set xrange [0.8:max_workers * 1.25]
	set yrange [0.5:max_workers * 1.25]
	set xtics 1, 2
	set ytics 1, 2
	# Nudge the modes sideways so that their bars do not hide each other.
	shift(x, i) = x * (1 + 0.035 * (i - (n + 1) / 2.0))
} else {
	set xrange [0.6:max_workers + 0.4]
	set yrange [0:max_workers + 0.5]
	set xtics 1
	set ytics 1
	shift(x, i) = x + 0.05 * (i - (n + 1) / 2.0)
}
set format y "%gx"
# What ran the py- rows goes under the axis: in the key it would crowd the box.
if (runtime ne "") {
	set xlabel "workers (threads or processes); dashed: python3, ".runtime
} else {
	set xlabel "workers (threads or processes)"
}
set ylabel "speedup over serial (bars: 95% interval)"
set grid back lc rgb "#dddddd"
set key top left Left reverse spacing 1.1 box lc rgb "#bbbbbb" opaque
set border 3
set tics nomirror
set bars small
if (exists("title")) { set title title }

if (!exists("mine")) { mine = "" }
label(m) = (index_of(mine, m, 1) > 0) ? "your ".m : m
refmodes = ""
if (exists("ref")) {
	# The reference's rows of the student's modes, as far as both have them.
	stats ref using (m = strcol(1), \
		(index_of(mine, m, 1) > 0 && index_of(modes, m, 1) > 0 && index_of(refmodes, m, 1) == 0) ? \
			(refmodes = refmodes . " " . m, 0) : 0, \
		$2) nooutput
} else {
	ref = data
}
nr = words(refmodes)
# (Gnuplot reads a plot's options even when its loop is empty: never 0.)
ri(j) = (j >= 1 && j <= nr) ? index_of(modes, word(refmodes, j), 1) : 1

# The reference's curves only where there are some (an empty loop would
# still leave an empty key entry).
refplot = (nr == 0) ? "" : \
	'for [j = 1:nr] ref using (strcol(1) eq word(refmodes, j) ? shift($2, ri(j) + 0.5) : NaN):4:11:12 ' . \
	'with yerrorlines lw 1 dt 1 pt 4 ps 0.8 lc rgb colour(ri(j)) title "reference ".word(refmodes, j), '
eval 'plot for [i = 1:n] data using ' . \
	'(strcol(1) eq word(modes, i) ? shift($2, i) : NaN):4:11:12 ' . \
	'with yerrorlines lw 2 dt dash(i) pt point(i) ps 0.8 lc rgb colour(i) title label(word(modes, i)), ' . \
	refplot . \
	'x with lines dt 3 lw 1.5 lc rgb "#777777" title "ideal: speedup = workers"'
