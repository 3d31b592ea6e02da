# Makefile - a book of graded C exercises on concurrency.
#
# Readers:      make book       build/book.html, .pdf and .epub (EDITION=instructor: build/book-instructor.*)
# Students:     make check      your exercise files: what passes, what to fix
# Instructors:  make grade      scores by part, and build/grade/results.json
# Everyone:     make test       the project proves itself (CI runs this)
# `make help` lists every target and variable.
#
# The chapters are found, not listed: every folder chapters/NN-name/ is one.
# tools/chapter.mk builds one chapter against one copy of its exercise files;
# tools/run-tests is the one test runner, tools/report the one report, the
# harness (harness/) the one timer, tools/include.lua the one include filter.

.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/sh

B := build
CHAPTERS := $(sort $(patsubst chapters/%/,%,$(wildcard chapters/[0-9][0-9]-*/)))
# Chapters with measurements: those with a harness/CH.c.
MEASURED := $(filter $(patsubst harness/%.c,%,$(wildcard harness/[0-9][0-9]-*.c)),$(CHAPTERS))

# make check CHAPTER=01-gil: only some chapters.
CHAPTER ?= $(CHAPTERS)
# Which exercise files `make bench` and `make book` measure: the reference
# (solutions) or the student's own (chapters); a copy without solutions/
# (the students' repository) has only the student's.
TREE ?= $(if $(wildcard solutions/*/),solutions,chapters)
# full: the book's measurements; short: a quick run that proves the pipeline.
PROFILE ?= full
# make grade SUBMISSION=path/to/hand-in
SUBMISSION ?=
# make grade HIDDEN=DIR: tests kept outside the students' repository
# (DIR/CH/test_*.c, their points in DIR/rubric; see tests/hidden-example).
HIDDEN ?=
# Where make book puts book.html and book.pdf.
BOOKDIR ?= $(B)
# How the book's measurement notes say they were made.
BENCH_COMMAND ?= make book
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Answers checked side by side in make test: three times the CPUs, because
# much of their test time is waiting (deadlines, sleeps), not computing (on
# two CPUs, twice took 8.5 minutes with the CPUs 60% busy, three times 4.7
# minutes); the control run among them shows that the crowd makes no test
# fail.
ANSWER_JOBS ?= $(shell echo $$(($(JOBS) * 3)))
# Tests run at once by make check and make grade: one more than the CPUs,
# for the same reason (the reference of all four chapters: 58-62 s with
# two at a time, 50-54 s with three, on two CPUs).
TEST_JOBS ?= $(shell echo $$(($(JOBS) + 1)))

DATA := $(B)/bench/$(TREE)-$(PROFILE)
SUBMAKE := $(MAKE) --no-print-directory -f tools/chapter.mk

ifeq ($(filter $(TREE),solutions chapters),)
$(error TREE=$(TREE): choose TREE=solutions (the reference) or TREE=chapters (your own code))
endif

all: book
.PHONY: all help check hint reset watch test grade grade-all test-grade-all bench book html pdf clean deps-check deps-book deps-test FORCE \
	test-manifest test-reference test-skeleton test-answers test-mutants test-edition test-grading test-gradescope test-corpus test-book test-yours gradescope student-repo epub

help:
	@echo 'Readers'
	@echo '  make book           build/book.html, .pdf and .epub (the student edition), with charts measured on this machine'
	@echo '  make html, make pdf, make epub   one of the three'
	@echo '  make book EDITION=instructor   build/book-instructor.*: also the solution walkthroughs, and appendices with each chapter'"'"'s rubric and known mistakes'
	@echo '  make book TREE=chapters   the same book, charts of your own code beside the reference'"'"'s (parts not done yet: said, not drawn)'
	@echo 'Students (edit only your exercise files, chapters/NN-name/*.c, between BEGIN/END EXERCISE)'
	@echo '  make check          build and run the tests on your files, as the grader will: what passes, what fails, why, your score, what next'
	@echo '  make check CHAPTER=01-gil   one chapter only'
	@echo '  make check PART=02-threads/B, TEST=queue/close_wakes_every_waiting_get   one part, one test'
	@echo '  make check REPEAT=20 ...    run the tests 20 times: a race that fails only sometimes shows'
	@echo '  make check DETAIL=all       every test of every part (by default, parts after yours get one line each)'
	@echo '  make watch          check the part you are editing again each time you save, until Ctrl-C'
	@echo '  make reset PART=02-threads/B   put that part'"'"'s regions back as the skeleton has them (your file kept as a backup)'
	@echo '  make hint           the next hint for the part make check sent you to (PART=02-threads/B: that part; HINT=N: hint N)'
	@echo '  make bench TREE=chapters    time your code: threads, processes, your GIL'
	@echo 'Instructors'
	@echo '  make grade          grade chapters/ by tests/rubric: a score table and build/grade/results.json'
	@echo '  make grade SUBMISSION=dir   grade a hand-in: only the exercise regions of its exercise files are taken from dir'
	@echo '  make grade HIDDEN=dir   add the hidden tests of dir (dir/CH/test_*.c, dir/rubric): they count, their names stay out of results.json'
	@echo '  make student-repo   build/student-repo: the repository to hand out, a fresh git repository without solutions/ and the answers'
	@echo '  make gradescope     build/autograder.zip for Gradescope (CHAPTER=..., HIDDEN=dir)'
	@echo '  make grade-all SUBMISSIONS=dir   a whole class (a folder, .zip or .tar.gz per student): build/grade-all/gradebook.csv, summary.md'
	@echo 'Maintainers'
	@echo '  make test           reference passes (two runs at once), skeletons fail cleanly, wrong answers are caught,'
	@echo '                      other correct answers pass, partial answers earn their parts, the student edition grades, book builds'
	@echo '  make bench          time the reference (PROFILE=full|short), tables on stdout, data in $(B)/bench/'
	@echo '  make clean          remove $(B)/'
	@echo 'Variables: CHAPTER=$(CHAPTER) TREE=$(TREE) PROFILE=$(PROFILE) EDITION=student|instructor JOBS=$(JOBS) DEPS=skip (no package check)'

deps-check deps-watch deps-grade deps-book deps-test:
	@tools/deps $(patsubst deps-%,%,$@)

# --- Students ---------------------------------------------------------------

# The grader's own path (tools/grade -m check): the exercise regions of
# your files, spliced into the given code, built and tested; a report by
# part with what to do next.
check: deps-check
	@DETAIL=$(DETAIL) tools/grade -m check -j $(TEST_JOBS) -c "$(CHAPTER)" \
		$(if $(PART),-p $(PART)) $(if $(TEST),-t $(TEST)) $(if $(REPEAT),-r $(REPEAT)) chapters

# make check again for the part being edited, each time an exercise file is
# saved, until Ctrl-C (tools/watch; inotifywait from inotify-tools).
watch: deps-watch
	@tools/watch -j $(JOBS)

# One part's exercise regions back as the skeleton has them (FROM=REV: the
# skeleton as committed there, default HEAD); your file is kept as a backup
# next to it, and the message says where.
reset:
	@tools/reset $(if $(FROM),-f $(FROM)) $(PART)

# The next of a part's two or three hints (chapters/NN-name/hints.md): for
# the part your last make check sent you to, or PART=02-threads/B; HINT=N
# shows hint N.
hint:
	@B=$(B) tools/hint $(if $(HINT),-n $(HINT)) $(PART)

# --- Instructors ------------------------------------------------------------

grade: deps-check
	@tools/grade -j $(TEST_JOBS) $(if $(HIDDEN),-H $(HIDDEN)) $(SUBMISSION)

# A whole class: every folder, .zip or .tar.gz in SUBMISSIONS graded alone,
# several at once (as many as there are CPUs, more while a CPU is idle, at
# most GRADE_JOBS: twice the CPUs unless set), into build/grade-all/ (gradebook.csv, summary.md, each
# student's results.json); only what changed is graded again.
grade-all: deps-grade
	@[ -n "$(SUBMISSIONS)" ] || { echo "make grade-all SUBMISSIONS=DIR: the folder of hand-ins (a folder, .zip or .tar.gz per student)"; exit 2; }
	@tools/grade-all $(if $(GRADE_JOBS),-j $(GRADE_JOBS)) $(if $(CHAPTER),-c "$(CHAPTER)") $(if $(HIDDEN),-H $(HIDDEN)) -o $(B)/grade-all $(SUBMISSIONS)

# The repository an instructor hands out: build/student-repo, a fresh git
# repository without what tools/student-edition.exclude lists.
student-repo:
	@tools/student-repo $(B)/student-repo

# A Gradescope autograder: build/autograder.zip with setup.sh and
# run_autograder at its root (tools/gradescope); CHAPTER=... for one
# chapter's assignment, HIDDEN=DIR to add hidden tests.
gradescope: deps-grade
	@tools/gradescope -c "$(CHAPTER)" $(if $(HIDDEN),-H $(HIDDEN)) -o $(B)/autograder.zip

# --- Maintainers: make test -------------------------------------------------

# Each step prints one line; the first failure stops make test.
# The last line says how long each step took (also in build/test-times).
TEST_STEPS := manifest reference skeleton answers edition grade-all grading \
	corpus gradescope book yours
test: deps-test
	@mkdir -p $(B) && : >$(B)/leases.log && touch $(B)/test-started && : >$(B)/test-times
	@start=$$(date +%s); for s in $(TEST_STEPS); do t=$$(date +%s); \
		$(MAKE) --no-print-directory test-$$s || exit 1; \
		echo "$$s $$(($$(date +%s) - t))" >>$(B)/test-times; \
	done; \
	all=$$(($$(date +%s) - start)); \
	echo "make test: everything passed in $$((all / 60)) min $$((all % 60)) s ($$(awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $$1, $$2 }' $(B)/test-times))"

# Every chapter's manifest is well formed, its exercise files exist in the
# skeleton and the reference (and nothing else is in the reference), and
# the rubric's tests belong to parts the manifest declares.
test-manifest:
	@for ch in $(CHAPTERS); do \
		tools/manifest check $$ch || exit 1; \
		tools/hint check $$ch || exit 1; \
		for f in $$(tools/manifest $$ch exercise); do \
			[ -f chapters/$$ch/$$f ] || { echo "test-manifest: chapters/$$ch/$$f: no such skeleton"; exit 1; }; \
			[ -f solutions/$$ch/$$f ] || { echo "test-manifest: solutions/$$ch/$$f: no such reference"; exit 1; }; \
		done; \
		for f in solutions/$$ch/*; do \
			tools/manifest $$ch exercise | grep -qx "$${f##*/}" || \
				{ echo "test-manifest: $$f is not an exercise file of chapters/$$ch/manifest"; exit 1; }; \
		done; \
		parts=$$(tools/manifest $$ch part | cut -c1); \
		awk -v ch=$$ch -v parts="$$parts" '($$1 == "test" || $$1 == "perf") && $$2 == ch && index(parts, $$3) == 0 { \
			printf "test-manifest: tests/rubric: %s is in part %s, which chapters/%s/manifest does not declare\n", $$5, $$3, ch; bad = 1 } \
			END { exit bad }' tests/rubric || exit 1; \
	done; \
	echo "test-manifest: every chapter's manifest, exercise files and rubric parts agree, and every part has two or three hints"

# Two complete runs of the reference at the same moment both pass every
# test, beside a third whose longer tests the runner kills; none of them
# leaves anything behind (tools/test-isolation says what it checks). This
# is a proof about the runner, made on one chapter: the one whose tests
# start and leave the most (processes, pipes, shared memory objects, an
# HTTP server). Every chapter's reference also passes every test in
# test-answers, among a crowd of runs of its own tests (its control), and
# in test-edition, graded test by test as a hand-in.
ISOLATION_CHAPTER ?= 03-processes
test-reference:
	@ch=$(ISOLATION_CHAPTER); \
	tools/test-isolation $$ch solutions/$$ch $(B)/solutions/$$ch >$(B)/isolation-$$ch.log 2>&1 || \
		{ cat $(B)/isolation-$$ch.log; echo "test-reference: FAILED for $$ch (logs in $(B)/solutions/$$ch/)"; exit 1; }; \
	n=$$(wc -l <$(B)/solutions/$$ch/a/results.tsv); \
	echo "test-reference: every one of the $$n tests of $$ch passes on solutions/$$ch, in two runs started at the same moment beside a third whose tests the runner killed; none of the three left anything behind"

# The skeleton as committed: if chapters/ has local edits (a student's work),
# the committed version is tested, so that make test stays meaningful.
test-skeleton:
	@for ch in $(CHAPTERS); do \
		rm -rf $(B)/pristine/$$ch && mkdir -p $(B)/pristine/$$ch || exit 2; \
		for f in $$(tools/manifest $$ch exercise); do \
			s=chapters/$$ch/$$f; \
			if git diff --quiet HEAD -- $$s 2>/dev/null || ! git cat-file -e HEAD:$$s 2>/dev/null; then \
				cp $$s $(B)/pristine/$$ch/; \
			else \
				echo "test-skeleton: $$s has local changes; testing the committed skeleton"; \
				git show HEAD:$$s >$(B)/pristine/$$ch/$$f || exit 2; \
			fi; \
			tools/regions check solutions/$$ch/$$f $(B)/pristine/$$ch/$$f || \
				{ echo "test-skeleton: $$s and solutions/$$ch/$$f differ outside the exercise regions"; exit 1; }; \
		done; \
		tools/run-tests -b -j 1 $$ch $(B)/pristine/$$ch $(B)/skeleton/$$ch || exit 2; \
		if grep -q '	build	' $(B)/skeleton/$$ch/results.tsv; then \
			echo "test-skeleton: the $$ch skeleton does not compile cleanly:"; cat $(B)/skeleton/$$ch/build.log; exit 1; fi; \
	done; \
	if tools/report expect fail $(patsubst %,$(B)/skeleton/%/results.tsv,$(CHAPTERS)); then \
		echo "test-skeleton: every skeleton compiles without warnings, agrees with its solution outside the exercise regions, and fails every test cleanly"; \
	else echo "test-skeleton: FAILED"; exit 1; fi

# Answers other than the reference, each a few diff hunks against it
# (tools/regions patch), all run side by side (make -j):
#   tests/CH/mutants/*.diff   realistic wrong answers: the tests each names
#                             (caught-by:) must fail for a reason of their own
#   tests/CH/variants/*.diff  correct answers written another way: every
#                             test passes
#   tests/CH/stages/*.diff    the reference cut back to its first parts
#                             (parts-done:): those parts earn every point,
#                             the others none
# An answer's folder holds only the files it changes; the others are the
# reference's (EX_FALLBACK, tools/chapter.mk), compiled once for all.
# Each applies its hunks to one exercise file (the header's " * file: F",
# else the manifest's first); a header line " * skeleton: F..." takes those
# exercise files from the committed skeleton instead of the reference (a
# stage of a chapter whose later parts live in files of their own).
# plus a control: the reference itself, run among them, passes every test,
# so that a catch is never the work of the crowd. The reference build
# comes first so that the objects every answer shares exist before the
# answers build in parallel.
answers_of = $(foreach ch,$(CHAPTERS),$(patsubst tests/$(ch)/$(1)/%.diff,answer/$(ch)/$(1)/%,$(wildcard tests/$(ch)/$(1)/*.diff)))
ANSWERS := $(patsubst %,answer/%/control/reference,$(CHAPTERS)) \
	$(call answers_of,mutants) $(call answers_of,variants) $(call answers_of,stages)
test-answers:
	@for ch in $(CHAPTERS); do $(SUBMAKE) CH=$$ch EX=solutions/$$ch OUT=$(B)/solutions/$$ch tests >/dev/null || exit 2; done
	@$(MAKE) --no-print-directory -j $(ANSWER_JOBS) $(ANSWERS) >$(B)/answers.log 2>&1; st=$$?; \
	grep -v '^make' $(B)/answers.log | awk '/^tools\/run-tests: warning/ { if (seen[$$0]++) next } 1'; \
	if [ $$st = 0 ]; then echo "test-answers: the tests catch all $(words $(call answers_of,mutants)) mutants, pass all $(words $(call answers_of,variants)) variants, give each of the $(words $(call answers_of,stages)) stages exactly the points of its parts, and pass the reference run among them"; \
	else echo "test-answers: FAILED (log: $(B)/answers.log)"; exit 1; fi
test-mutants: test-answers

answer/%: FORCE
	@ch=$(word 1,$(subst /, ,$*)); kind=$(word 2,$(subst /, ,$*)); name=$(notdir $*); \
	src=tests/$$ch/$$kind/$$name.diff; dir=$(B)/answers/$$ch/$$kind/$$name; \
	files=$$(tools/manifest $$ch exercise); rm -rf $$dir && mkdir -p $$dir || exit 2; \
	if [ $$kind != control ]; then \
		for f in $$(sed -n 's/^ \* skeleton:[[:space:]]*//p' $$src); do \
			git show HEAD:chapters/$$ch/$$f >$$dir/$$f 2>/dev/null || cp chapters/$$ch/$$f $$dir/ || exit 1; \
		done; \
		file=$$(sed -n 's/^ \* file:[[:space:]]*\([^[:space:]*]*\).*/\1/p' $$src | head -n 1); \
		[ -n "$$file" ] || file=$$(echo $$files | cut -d' ' -f1); \
		if grep -q '^@@ ' $$src; then tools/regions patch solutions/$$ch/$$file $$src >$$dir/$$file || exit 1; fi; \
	fi; \
	tests=; [ $$kind = mutants ] && tests=$$(sed -n 's/^.*caught-by:[[:space:]]*//p' $$src | sed 's/[[:space:]]*\*\/.*//'); \
	batch=-b; [ $$kind = mutants ] && batch=; \
	EX_FALLBACK=solutions/$$ch tools/run-tests $$batch -j 1 $$(for t in $$tests; do printf -- '-t %s ' $$t; done) $$ch $$dir $$dir/run || exit 2; \
	case $$kind in \
	mutants) tools/report caught $$src $$dir/run/results.tsv ;; \
	variants) tools/report variant $$src $$dir/run/results.tsv && echo "  passes: $$src" ;; \
	stages) tools/report stage $$src $$dir/run/results.tsv && echo "  earns exactly its parts: $$src" ;; \
	control) tools/report variant solutions/$$ch $$dir/run/results.tsv && echo "  control: the reference of $$ch passes every test among the answers" ;; \
	esac

# The student edition: the repository without solutions/ and without the
# answers in tests/CH/{mutants,variants,stages} (which give the solutions
# away). In a copy of it, the grader grades a hand-in (the reference, with
# a change to the given code that it must ignore and report) at full marks,
# and make check runs on the first chapter's skeleton (test-skeleton has
# already run every skeleton; this shows that the edition's make check works).
EDITION_DIR := $(B)/edition
test-edition:
	@rm -rf $(EDITION_DIR) $(B)/edition-handin && mkdir -p $(EDITION_DIR) $(B)/edition-handin || exit 2; \
	git ls-files -z --cached --others --exclude-standard | \
		grep -z -v -E "$$(grep -v -e '^#' -e '^$$' tools/student-edition.exclude)" | \
		xargs -0 cp --parents -t $(EDITION_DIR) || exit 2; \
	for ch in $(CHAPTERS); do for f in $$(tools/manifest $$ch exercise); do \
		sed '1s/^/\/* a comment the grader must ignore *\/\n/' solutions/$$ch/$$f >$(B)/edition-handin/$$f || exit 2; \
	done; done; \
	h=$$(pwd)/$(B)/edition-handin; \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) grade SUBMISSION=$$h DEPS=skip >$(B)/edition-grade.log 2>&1 || \
		{ cat $(B)/edition-grade.log; echo "test-edition: FAILED: the student edition does not grade the reference at full marks"; exit 1; }; \
	grep -q 'Ignored in the hand-in' $(EDITION_DIR)/build/grade/results.json || \
		{ echo "test-edition: FAILED: results.json does not report the change to the given code"; exit 1; }; \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) check CHAPTER=$(firstword $(CHAPTERS)) DEPS=skip >$(B)/edition-check.log 2>&1; \
	grep -q '^Next: Part A of chapter' $(B)/edition-check.log || \
		{ cat $(B)/edition-check.log; echo "test-edition: FAILED: make check on the skeleton does not send a student to Part A"; exit 1; }; \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) hint >$(B)/edition-hint.log 2>&1 && \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) hint >>$(B)/edition-hint.log 2>&1 && \
	grep -q "^Chapter $(firstword $(CHAPTERS)), part A (.*): hint 1 of" $(B)/edition-hint.log && \
	grep -q "^Chapter $(firstword $(CHAPTERS)), part A (.*): hint 2 of" $(B)/edition-hint.log || \
		{ cat $(B)/edition-hint.log; echo "test-edition: FAILED: make hint after that check does not give Part A's hints one after the other"; exit 1; }; \
	t=$$(awk -v ch=$(firstword $(CHAPTERS)) '$$1 == "test" && $$2 == ch { print $$5; exit }' tests/rubric); \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) check TEST=$$t REPEAT=2 DEPS=skip >$(B)/edition-repeat.log 2>&1; \
	grep -q "^  FAIL    $$t  (failed 2 of 2 runs)" $(B)/edition-repeat.log && grep -q '^0 of the 1 tests that ran passed every time' $(B)/edition-repeat.log || \
		{ cat $(B)/edition-repeat.log; echo "test-edition: FAILED: make check TEST=$$t REPEAT=2 on the skeleton does not report that one test failing twice"; exit 1; }; \
	ch=$(firstword $(CHAPTERS)); f=$$(tools/manifest $$ch exercise | head -n 1); \
	(cd $(EDITION_DIR) && git init -q && git add -A && git -c user.name=test -c user.email=test@localhost commit -q -m edition) || exit 2; \
	cp solutions/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f && \
	$(MAKE) --no-print-directory -C $(EDITION_DIR) reset PART=$$ch/A >$(B)/edition-reset.log 2>&1 && \
	cmp -s solutions/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f.before-reset-A-* && \
	! cmp -s solutions/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f && ! cmp -s chapters/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f && \
	tools/regions check solutions/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f || \
		{ cat $(B)/edition-reset.log; echo "test-edition: FAILED: make reset PART=$$ch/A on a finished $$f does not put part A's regions back, keep the rest and back the file up"; exit 1; }; \
	setsid $(MAKE) --no-print-directory -C $(EDITION_DIR) watch DEPS=skip >$(B)/edition-watch.log 2>&1 & w=$$!; \
	n=0; until grep -q '^Watching' $(B)/edition-watch.log || [ $$n -ge 100 ]; do sleep 0.1; n=$$((n + 1)); done; \
	cp solutions/$$ch/$$f $(EDITION_DIR)/chapters/$$ch/$$f; \
	n=0; until grep -q 'tests that ran passed' $(B)/edition-watch.log || [ $$n -ge 1200 ]; do sleep 0.1; n=$$((n + 1)); done; \
	kill -TERM -$$w 2>/dev/null; \
	n=0; while kill -0 $$w 2>/dev/null && [ $$n -lt 100 ]; do sleep 0.1; n=$$((n + 1)); done; \
	if kill -0 $$w 2>/dev/null; then kill -KILL -$$w 2>/dev/null; wait $$w 2>/dev/null; \
		echo "test-edition: FAILED: make watch was still running 10 s after a TERM"; exit 1; fi; wait $$w 2>/dev/null; \
	grep -q "^== .*: checking part A of $$ch ==" $(B)/edition-watch.log && grep -q '^[0-9]* of the [0-9]* tests that ran passed' $(B)/edition-watch.log || \
		{ cat $(B)/edition-watch.log; echo "test-edition: FAILED: make watch does not check part A when $$f is saved with part A done"; exit 1; }; \
	echo "test-edition: without solutions/, make grade gives the reference full marks (ignoring and reporting a change outside the regions), make check sends the skeleton to Part A, make hint then gives Part A's first hint, then its second, make check TEST=... REPEAT=2 runs one test twice, make reset PART=...A puts Part A's regions of a finished file back, keeping the rest and a backup, and make watch checks part A when that file is saved"

# make grade-all on a small class of the first chapter, as a learning
# platform exports one: a folder with the reference, a .zip of the skeleton
# (wrapped in a folder), a .tar.gz that does not compile, a .tar.gz whose
# gil_take() crashes, a .tar.gz whose chapter folder is a link to another
# student's (the grader must not follow it), two crafted archives whose
# members aim outside the student's folder (.., an absolute path, a write
# through a link the archive made), and a stray file. Then again:
# nothing is regraded.
GA := $(B)/grade-all-test
test-grade-all:
	@ch=$(firstword $(CHAPTERS)); f=$$(tools/manifest $$ch exercise | head -n 1); \
	rm -rf $(GA) && mkdir -p $(GA)/subs/alice $(GA)/make/bob/chapters/$$ch $(GA)/make/carol $(GA)/make/dave || exit 2; \
	cp solutions/$$ch/$$f $(GA)/subs/alice/ && \
	cp chapters/$$ch/$$f $(GA)/make/bob/chapters/$$ch/ && \
	(cd $(GA)/make && python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); [z.write(p) for p in sys.argv[2:]]' ../subs/bob.zip bob bob/chapters bob/chapters/$$ch bob/chapters/$$ch/$$f) && \
	sed '/BEGIN EXERCISE/{n;s/^/this does not compile;/;}' solutions/$$ch/$$f >$(GA)/make/carol/$$f && \
	tar -czf $(GA)/subs/carol.tar.gz -C $(GA)/make/carol $$f && \
	awk '{ print } /\/\* BEGIN EXERCISE [a-z_]+:/ && !/helpers/ && !done { print "\t*(volatile int *)0 = 1;"; done = 1 }' solutions/$$ch/$$f >$(GA)/make/dave/$$f && \
	tar -czf $(GA)/subs/dave.tgz -C $(GA)/make/dave $$f && \
	mkdir -p $(GA)/make/erin && ln -s ../alice $(GA)/make/erin/$$ch && \
	tar -czf $(GA)/subs/erin.tar.gz -C $(GA)/make/erin $$ch && \
	mkdir -p $(GA)/target && python3 -c 'import io, sys, tarfile, zipfile; \
		z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("../../escaped-zip.txt", "x"); z.writestr(sys.argv[3] + "/abs-zip.txt", "x"); z.close(); \
		t = tarfile.open(sys.argv[2], "w:gz"); i = tarfile.TarInfo("d"); i.type = tarfile.SYMTYPE; i.linkname = sys.argv[3]; t.addfile(i); \
		i = tarfile.TarInfo("d/through-link.txt"); i.size = 1; t.addfile(i, io.BytesIO(b"x")); \
		i = tarfile.TarInfo("../../escaped-tar.txt"); i.size = 1; t.addfile(i, io.BytesIO(b"x")); t.close()' \
		$(GA)/subs/frank.zip $(GA)/subs/gina.tgz $$(cd $(GA)/target && pwd -P) && \
	echo "not a submission" >$(GA)/subs/notes.txt || exit 2; \
	PERF=0 tools/grade-all -j $(JOBS) -c $$ch -o $(GA)/out $(GA)/subs >$(GA)/run1.log 2>&1 || { cat $(GA)/run1.log; echo "test-grade-all: FAILED: grade-all did not grade every submission"; exit 1; }; \
	max=$$(awk -v ch=$$ch '$$1 == "test" && $$2 == ch { s += $$4 } END { print s }' tests/rubric); \
	bad=; \
	grep -q "^alice,.*,$$max,graded$$" $(GA)/out/gradebook.csv || bad="$$bad alice(the reference: $$max points)"; \
	grep -q "^bob,.*,0,graded$$" $(GA)/out/gradebook.csv || bad="$$bad bob(the skeleton, zipped in a folder: 0 points)"; \
	grep -q "^carol,.*,0,$$ch did not compile$$" $(GA)/out/gradebook.csv || bad="$$bad carol(does not compile)"; \
	grep -q "^dave,.*crashed" $(GA)/out/gradebook.csv || bad="$$bad dave(crashes)"; \
	grep -q "^erin,.*,0,$$ch not handed in ($$f)$$" $(GA)/out/gradebook.csv && grep -q 'through a linked folder' $(GA)/out/students/erin/results.json || bad="$$bad erin(a folder linked to alice's: 0 points, and said why)"; \
	grep -q "notes.txt: not a folder" $(GA)/out/summary.md || bad="$$bad notes.txt(ignored, and said so)"; \
	test -s $(GA)/out/students/alice/results.json || bad="$$bad alice/results.json"; \
	[ -z "$$(ls -A $(GA)/target)" ] && [ ! -e $(GA)/out/escaped-zip.txt ] && [ ! -e $(GA)/out/escaped-tar.txt ] || \
		bad="$$bad frank-and-gina(archive members written outside the student's folder: $$(ls -A $(GA)/target $(GA)/out | tr '\n' ' '))"; \
	grep -q "^frank,.*,0,$$ch not handed in ($$f)$$" $(GA)/out/gradebook.csv && grep -q "^gina,.*,0,$$ch not handed in ($$f)$$" $(GA)/out/gradebook.csv || bad="$$bad frank-and-gina(nothing handed in: 0, and the status says so)"; \
	[ -z "$$bad" ] || { cat $(GA)/out/gradebook.csv $(GA)/out/summary.md; echo "test-grade-all: FAILED:$$bad"; exit 1; }; \
	PERF=0 tools/grade-all -j $(JOBS) -c $$ch -o $(GA)/out $(GA)/subs >$(GA)/run2.log 2>&1 && grep -q ': 0 to grade, 7 unchanged' $(GA)/run2.log || \
		{ cat $(GA)/run2.log; echo "test-grade-all: FAILED: a second run graded again what had not changed"; exit 1; }; \
	echo "test-grade-all: make grade-all grades a folder, a zip wrapped in a folder and two tar.gz (the reference at $$max, the skeleton at 0, one that does not compile, one that crashes), one whose folder is a link to another student's (0, and why), and two crafted archives whose members aim outside the student's folder, by .., by an absolute path and through a link (nothing lands outside), says what it ignored, and grades nothing again when nothing changed"

# The grader's own features on the first chapter: hidden tests, the
# performance checks (pass, fail and inconclusive), and a test stopped at
# the runner's time limit reported spinning or blocked, and where
# (tools/test-grading says what it checks).
test-grading:
	@tools/test-grading $(B)/test-grading

# The hostile corpus (tests/corpus/): a class of hand-ins that crash, hang,
# fork-bomb, flood, race, kill, leave things behind, reach outside, graded
# by grade-all, each to the score and verdicts it must get, and nothing
# left behind afterwards (tools/test-corpus says what it checks).
test-corpus:
	@tools/test-corpus

# The Gradescope zip of the first chapter, run in a throwaway root laid out
# as Gradescope's (tools/test-gradescope says what it checks).
test-gradescope:
	@tools/test-gradescope

# Both editions of the book, from a short measurement run, then checked as
# a reader gets them (tools/test-editions says what it checks).
test-book:
	@$(MAKE) --no-print-directory book PROFILE=short BOOKDIR=$(B)/test-book BENCH_COMMAND="make test" >$(B)/test-book.log 2>&1 && \
	$(MAKE) --no-print-directory book EDITION=instructor PROFILE=short BOOKDIR=$(B)/test-book BENCH_COMMAND="make test" >>$(B)/test-book.log 2>&1 || \
		{ tail -n 30 $(B)/test-book.log; echo "test-book: FAILED (log: $(B)/test-book.log)"; exit 1; }
	@echo "test-book: both editions build, HTML, PDF and EPUB, with the short measurement profile in $(B)/test-book"
	@tools/test-editions $(B)/test-book
	@tools/check-book $(B)/test-book book
	@tools/check-book $(B)/test-book book-instructor
	@tools/test-book-checks

# make html TREE=chapters on a copy with one chapter done (tools/test-yours).
test-yours:
	@tools/test-yours $(B)/test-yours

# --- Measurements -----------------------------------------------------------

# make bench: measure now, whatever is cached, and print the tables.
bench: deps-book
	@for ch in $(MEASURED); do \
		$(SUBMAKE) CH=$$ch EX=$(TREE)/$$ch OUT=$(B)/$(TREE)/$$ch bench || exit 2; \
		rm -f $(DATA)/$$ch/.measured; \
	done
	@$(MAKE) --no-print-directory $(DATA)/.figures BENCH_COMMAND="make bench TREE=$(TREE) PROFILE=$(PROFILE)"
	@for ch in $(MEASURED); do cat $(DATA)/$$ch/env.md; echo; for t in $(DATA)/$$ch/*.md; do \
		[ $${t##*/} = env.md ] || { cat $$t; echo; }; done; done

# One chapter's measurements, redone only when its bench program or the
# Python side changed (any harness/*.py: a chapter's script imports the
# core's and may import an earlier chapter's; make bench redoes them
# regardless). On the student's code (TREE=chapters), tools/bench-yours
# measures only what make check says is done, and the reference's curves
# right after (so the reference's bench program is built too).
$(DATA)/%/.measured: FORCE
	@$(SUBMAKE) CH=$* EX=$(TREE)/$* OUT=$(B)/$(TREE)/$* bench
ifeq ($(TREE),chapters)
	@[ ! -d solutions/$* ] || $(SUBMAKE) CH=$* EX=solutions/$* OUT=$(B)/solutions/$* bench
	@if [ ! -f $@ ] || [ $(B)/chapters/$*/bench -nt $@ ] || [ $(B)/solutions/$*/bench -nt $@ ] || \
	    [ -n "$$(find harness -name '*.py' -newer $@)" ]; then \
		echo "measuring chapter $* (your code, $(PROFILE) profile) ..."; \
		tools/bench-yours -o $(@D) -b $(B) -p $(PROFILE) -j $(TEST_JOBS) -C "$(BENCH_COMMAND)" $* && touch $@; \
	fi
else
	@if [ ! -f $@ ] || [ $(B)/$(TREE)/$*/bench -nt $@ ] || \
	    [ -n "$$(find harness -name '*.py' -newer $@)" ]; then \
		echo "measuring chapter $* ($(TREE), $(PROFILE) profile) ..."; \
		mkdir -p $(@D) && $(B)/$(TREE)/$*/bench run --profile $(PROFILE) --tree $(TREE) \
			--out $(@D) --command "$(BENCH_COMMAND)" && touch $@; \
	fi
endif

# Every table the harness wrote becomes a chart: speedup-*.tsv through
# plots/speedup.gp, any other NAME.tsv through plots/CH-NAME.gp if it exists.
# On the student's code, a speedup chart also gets the reference's curves
# of the student's modes (NAME.mine, reference/NAME.tsv: tools/bench-yours),
# and a chart of the student's code (its NAME.caption, or its experiment's,
# says so) -e "your='your '" for its legend.
$(DATA)/.figures: $(patsubst %,$(DATA)/%/.measured,$(MEASURED)) $(wildcard plots/*.gp)
	@for ch in $(MEASURED); do for t in $(DATA)/$$ch/*.tsv; do \
		[ -f "$$t" ] || continue; \
		n=$${t##*/}; n=$${n%.tsv}; d=$(DATA)/$$ch; \
		case $$n in *.raw|env) continue ;; speedup-*) gp=plots/speedup.gp ;; *) gp=plots/$$ch-$$n.gp ;; esac; \
		[ -f $$gp ] || continue; \
		set -- ; [ -f $$d/$$n.mine ] && set -- -e "mine='$$(cat $$d/$$n.mine)'"; \
		c=$$n; while :; do \
			if [ -f $$d/$$c.caption ]; then grep -q '^Measured on your code' $$d/$$c.caption && set -- "$$@" -e "your='your '"; break; fi; \
			case $$c in *-*) c=$${c%-*} ;; *) break ;; esac; \
		done; \
		[ -f $$d/$$n.mine ] && [ -f $$d/reference/$$n.tsv ] && set -- "$$@" -e "ref='$$d/reference/$$n.tsv'"; \
		for ext in svg pdf; do \
			gnuplot "$$@" -e "data='$$t'" -e "out='$$d/$$n.$$ext'" $$gp || exit 1; \
		done; \
		$(SVG_UNIQUE_IDS) $$d/$$n.svg >$$d/$$n.svg.tmp && mv $$d/$$n.svg.tmp $$d/$$n.svg || exit 1; \
	done; done
	@touch $@

# gnuplot draws an opaque key twice, with the same ids: in a book (an EPUB
# above all) an id must be unique, so the second gets -2, and so on.
SVG_UNIQUE_IDS := awk '{ out = ""; line = $$0; \
	while (match(line, /id="[^"]*"/)) { id = substr(line, RSTART + 4, RLENGTH - 5); k = ++seen[id]; \
		out = out substr(line, 1, RSTART - 1) "id=\"" id (k > 1 ? "-" k : "") "\""; line = substr(line, RSTART + RLENGTH) } \
	print out line }'

# --- The book ---------------------------------------------------------------

include tools/book.mk

clean:
	rm -rf $(B)

FORCE:
