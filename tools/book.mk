# tools/book.mk - the book's rules, included by the Makefile: make book,
# make html, make pdf, make epub. The measurements they draw on
# ($(DATA)/.figures) are the Makefile's.
#
# Two editions come from the same sources (tools/include.lua says how):
#   make book                     the student edition, without the solution
#                                 walkthroughs and the reference code:
#                                 $(BOOKDIR)/book.html, book.pdf, book.epub
#   make book EDITION=instructor  everything, and an appendix per chapter
#                                 with its rubric by part and the mistakes
#                                 its mutants encode (tools/instructor-notes):
#                                 $(BOOKDIR)/book-instructor.html, .pdf, .epub
# The student edition reads nothing from solutions/ but the measurements
# the charts are drawn from ($(DATA), made from TREE=solutions by default).

comma := ,
BOOK_EDITION := $(if $(filter instructor,$(EDITION)),instructor,student)
ifeq ($(origin EDITION),command line)
ifeq ($(filter $(EDITION),student instructor),)
$(error EDITION=$(EDITION): choose EDITION=student (the default) or EDITION=instructor)
endif
endif
BOOK_NAME := $(if $(filter instructor,$(BOOK_EDITION)),book-instructor,book)
BOOK_TITLE := Concurrency in C$(if $(filter instructor,$(BOOK_EDITION)),$(comma) instructor edition)
# The instructor edition's appendices, generated from the rubric, the
# manifests and the mutants; book.md includes them in that edition only.
BOOK_NOTES := $(BOOKDIR)/instructor-notes/appendix.md
BOOK_EXTRA := $(if $(filter instructor,$(BOOK_EDITION)),$(BOOK_NOTES))

BOOK_SOURCES := book.md tools/include.lua tools/tree.lua $(wildcard chapters/*/*.md chapters/*/*.[ch] \
	harness/*.[ch] harness/*.py plots/*.gp) \
	$(if $(filter instructor,$(BOOK_EDITION)),$(wildcard solutions/*/*.c))
BOOK_SOURCES += tools/booklib.lua tools/book-check.lua tools/number.lua tools/index.lua chapters/glossary.md
PANDOC := pandoc --from markdown --lua-filter tools/include.lua --lua-filter tools/tree.lua --lua-filter tools/book-check.lua -M edition=$(BOOK_EDITION) \
	--lua-filter tools/number.lua --lua-filter tools/index.lua \
	--resource-path=.:$(DATA):$(BOOKDIR) \
	--standalone --number-sections --toc --toc-depth=2 --top-level-division=chapter

# The measurements first, one chapter after another (two at once would
# measure each other); then the three formats side by side, JOBS at a time
# (xelatex alone takes most of a rebuild).
book: deps-book
	@$(MAKE) --no-print-directory $(DATA)/.figures
	@$(MAKE) --no-print-directory -j $(JOBS) html pdf epub
	@echo "make book: $(BOOKDIR)/$(BOOK_NAME).html, .pdf and .epub, the $(BOOK_EDITION) edition (measurements: $(DATA))"
html: $(BOOKDIR)/$(BOOK_NAME).html
pdf: $(BOOKDIR)/$(BOOK_NAME).pdf
epub: $(BOOKDIR)/$(BOOK_NAME).epub

$(BOOKDIR)/$(BOOK_NAME).html: $(BOOK_SOURCES) $(BOOK_EXTRA) $(DATA)/.figures tools/book.css tools/book.html5
	@mkdir -p $(@D)
	$(PANDOC) --self-contained --default-image-extension=svg --template tools/book.html5 --css tools/book.css \
		-M title="$(BOOK_TITLE)" --metadata pagetitle="$(BOOK_TITLE)" -o $@ book.md

$(BOOKDIR)/$(BOOK_NAME).pdf: $(BOOK_SOURCES) $(BOOK_EXTRA) $(DATA)/.figures tools/book.tex
	@mkdir -p $(@D)
	$(PANDOC) --pdf-engine=xelatex --default-image-extension=pdf -M title="$(BOOK_TITLE)" \
		-V documentclass=report -V geometry:margin=2.2cm -V fontsize=10pt -V colorlinks \
		-V CJKmainfont="WenQuanYi Micro Hei" -H tools/book.tex -o $@ book.md

# EPUB 3 with the charts as SVG (and the picture as PNG), one file per
# chapter. The notes' Chinese terms are set in the reader's own CJK font:
# the one the PDF uses is a TrueType collection, which EPUB cannot embed.
$(BOOKDIR)/$(BOOK_NAME).epub: $(BOOK_SOURCES) $(BOOK_EXTRA) $(DATA)/.figures
	@mkdir -p $(@D)
	$(PANDOC) --to epub3 --default-image-extension=svg --epub-chapter-level=1 \
		-M title="$(BOOK_TITLE)" -o $@ book.md

$(BOOK_NOTES): tools/instructor-notes tests/rubric $(wildcard chapters/*/manifest tests/*/mutants/*.diff)
	@[ -d solutions ] || { echo "make book EDITION=instructor: this copy has no solutions/ (a student's repository): the instructor edition cannot be built here" >&2; exit 1; }
	@mkdir -p $(@D)
	tools/instructor-notes $@
