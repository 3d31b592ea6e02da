# tools/chapter.mk - build one chapter's programs against one copy of its
# exercise files. The top-level Makefile calls it for every chapter and every
# tree (the reference, the skeleton, a student's hand-in, a mutant):
#
#   make -f tools/chapter.mk CH=01-gil EX=solutions/01-gil OUT=build/solutions/01-gil all
#
# CH   the chapter, a folder name under chapters/ (01-gil)
# EX   the folder holding this build's exercise files (the files the
#      chapter's manifest lists as exercise; the reference is solutions/$(CH)/,
#      the skeleton chapters/$(CH)/); EX_FALLBACK (below) fills its gaps
# OUT  where the programs go: $(OUT)/tests, $(OUT)/drivers/*, $(OUT)/bench
# OBJ  where objects go (default build/obj): build/obj/VARIANT/PATH.o, named
#      by their source's path, so the objects of files common to every tree
#      are compiled once and shared, and a tree's own files never collide.
#
# What a chapter is made of, by convention (a new chapter adds files, no rules):
#   chapters/CH/manifest   the exercise files, extra wrapped calls and
#                          libraries (tools/manifest reads it)
#   chapters/CH/*.h, *.c   contract headers and read-only support code; the
#                          exercise files among the .c files come from EX
#   tests/CH/test_*.c      Criterion tests          -> $(OUT)/tests
#   tests/CH/tsan_*.c      ThreadSanitizer drivers  -> $(OUT)/drivers/tsan_*
#   tests/CH/*.c (others)  the chapter's own test helpers, linked into
#                          $(OUT)/tests
#   tests/lib/*.c          helpers shared by every chapter's tests
#   harness/CH.c           the chapter's workloads  -> $(OUT)/bench
#   harness/CH-*.c         more of the chapter's measurements, which later
#                          chapters may use too (a mode, a workload): linked
#                          into CH's bench program and into that of every
#                          chapter that uses CH (below)
#   harness/bench*.c       the harness shared by every chapter
#   harness/httpd.c        the local HTTP server, linked into every test,
#                          driver and bench program (tests and workloads
#                          start it)
#   uses CH2 (manifest)    the bench program also links chapter CH2's code:
#                          its support files, its exercise files from the
#                          same tree as EX (EX/../CH2/) and its
#                          harness/CH2-*.c, so that a chapter can measure an
#                          earlier chapter's work the way that chapter does
#                          (Chapter 2 measures Chapter 1's GIL)

CH ?= $(error CH is not set: which chapter?)
EX ?= $(error EX is not set: which folder holds the exercise files?)
OUT ?= $(error OUT is not set: where do the programs go?)

.DELETE_ON_ERROR:
# Objects are intermediate files to make; keep them, they are shared.
.SECONDARY:
.SUFFIXES:

comma := ,
CC ?= cc
CFLAGS ?= -g -O2
# Flags every build needs, kept apart from CFLAGS, which belongs to the user.
# -iquote: the project's headers are found by #include "x.h" only, so a
# tests/lib/sched.h, say, could never hide the system's <sched.h>.
REQ_CPPFLAGS := -D_GNU_SOURCE -iquote chapters/$(CH) -iquote tests/$(CH) \
	-iquote tests/lib -iquote harness
manifest = $(shell tools/manifest $(CH) $(1))
uses := $(call manifest,uses)
REQ_CPPFLAGS += $(patsubst %,-iquote chapters/%,$(uses))
REQ_CFLAGS := -std=c11 -pthread -Wall -Wextra -Werror -pedantic
LDLIBS := $(call manifest,ldlibs)
# The bench program links the chapters it uses too, so their libraries.
LDLIBS_bench := $(sort $(LDLIBS) $(foreach u,$(uses),$(shell tools/manifest $(u) ldlibs)))

# Each build variant has its own flags and its own objects. On every
# command line they come after the user's CFLAGS, so that the variant's
# hold (the sanitizer builds run at -O1 whatever CFLAGS says) and the
# user's still apply where the variant is silent (-march, -fno-inline...).
# test: Criterion tests under AddressSanitizer and UBSan. Test programs wrap
# the pthread calls (tests/lib/sched.c) so that tests can widen race windows,
# and read(), write(), fork() and waitpid() (tests/lib/procs_test.c) so that
# they can make them short, interrupted or failing; the wrappers pass every
# call through until a test asks otherwise.
VAR_test := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
WRAP := pthread_mutex_lock pthread_mutex_unlock pthread_cond_signal \
	pthread_cond_broadcast pthread_cond_wait pthread_cond_timedwait \
	read write fork waitpid $(call manifest,wrap)
LD_test := $(patsubst %,-Wl$(comma)--wrap=%,$(WRAP))
# tsan: plain driver programs (Criterion cannot run under ThreadSanitizer).
VAR_tsan := -O1 -g -fsanitize=thread
# bench: the harness, optimised, no sanitizer. It records its own flags.
VAR_bench := -O2 -g
DEF_bench = -DBENCH_CFLAGS='"$(strip $(REQ_CFLAGS) $(CFLAGS) $(VAR_bench))"'

exercise := $(call manifest,exercise)
$(if $(exercise),,$(error chapters/$(CH)/manifest lists no exercise file))
support := $(filter-out $(addprefix chapters/$(CH)/,$(exercise)),$(wildcard chapters/$(CH)/*.c))
# EX_FALLBACK: where to take the exercise files that EX lacks. make test's
# answers hold only the files they change; the others are the reference's,
# whose objects are compiled once and shared by every answer.
EX_FALLBACK ?=
mine := $(foreach f,$(exercise),$(if $(wildcard $(EX)/$(f)),$(EX)/$(f),$(if $(EX_FALLBACK),$(EX_FALLBACK)/$(f),$(EX)/$(f))))
# HIDDEN: a folder of tests kept outside the students' repository (make
# grade HIDDEN=DIR, tools/grade -H): its CH/test_*.c join the chapter's.
HIDDEN ?=
tests := $(wildcard tests/$(CH)/test_*.c $(if $(HIDDEN),$(HIDDEN)/$(CH)/test_*.c))
drivers := $(wildcard tests/$(CH)/tsan_*.c)
server := $(wildcard harness/httpd.c)
testlib := $(wildcard tests/lib/*.c) $(server) \
	$(filter-out $(tests) $(drivers),$(wildcard tests/$(CH)/*.c))
benchlib := $(wildcard harness/bench*.c) $(server)
# An earlier chapter's code, for the bench program (manifest: uses).
used_support = $(filter-out $(addprefix chapters/$(1)/,$(shell tools/manifest $(1) exercise)),$(wildcard chapters/$(1)/*.c))
used_mine = $(addprefix $(patsubst %/,%,$(dir $(patsubst %/,%,$(EX))))/$(1)/,$(shell tools/manifest $(1) exercise))
used := $(foreach u,$(uses),$(call used_support,$(u)) $(call used_mine,$(u)) \
	$(wildcard harness/$(u)-*.c))
workload := $(wildcard harness/$(CH).c harness/$(CH)-*.c)

OBJ ?= build/obj
obj = $(patsubst %.c,$(OBJ)/$(1)/%.o,$(2))

targets := $(if $(tests),$(OUT)/tests) \
	$(patsubst tests/$(CH)/%.c,$(OUT)/drivers/%,$(drivers)) \
	$(if $(workload),$(OUT)/bench)

all: $(targets)
tests: $(if $(tests),$(OUT)/tests) $(patsubst tests/$(CH)/%.c,$(OUT)/drivers/%,$(drivers))
bench: $(if $(workload),$(OUT)/bench)
.PHONY: all tests bench

# The exercise files are checked before anything else, so that a missing
# file is one clear line rather than a compiler's "No rule to make target".
$(mine):
	@echo "$@: missing (chapter $(CH) needs $(exercise))" >&2; exit 1

$(OUT)/tests: $(call obj,test,$(tests) $(testlib) $(support) $(mine))
	@mkdir -p $(@D)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) $(VAR_test) $(LDFLAGS) $(LD_test) -o $@ $^ -lcriterion $(LDLIBS)

$(OUT)/drivers/%: $(call obj,tsan,tests/$(CH)/%.c $(server) $(support) $(mine))
	@mkdir -p $(@D)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) $(VAR_tsan) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/bench: $(call obj,bench,$(benchlib) $(workload) $(support) $(mine) $(used))
	@mkdir -p $(@D)
	$(CC) $(REQ_CFLAGS) $(CFLAGS) $(VAR_bench) $(LDFLAGS) -o $@ $^ $(LDLIBS_bench)

# One pattern rule per variant; sources anywhere in the tree (including a
# hand-in copied under build/) land under $(OBJ)/VARIANT/ by their path.
define compile
$(OBJ)/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(REQ_CPPFLAGS) $$(DEF_$(1)) $$(CPPFLAGS) $$(REQ_CFLAGS) $$(CFLAGS) $$(VAR_$(1)) -MMD -MP -c -o $$@ $$<
endef
$(foreach v,test tsan bench,$(eval $(call compile,$(v))))

objects := $(call obj,test,$(tests) $(testlib) $(support) $(mine)) \
	$(call obj,tsan,$(drivers) $(server) $(support) $(mine)) \
	$(call obj,bench,$(benchlib) $(workload) $(support) $(mine) $(used))
-include $(objects:.o=.d)
