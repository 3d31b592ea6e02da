# tools/book.mk - the book's rules, included by the Makefile: make book,
# make html, make pdf. The measurements they draw on ($(DATA)/.figures)
# are the Makefile's.

BOOK_SOURCES := book.md tools/include.lua $(wildcard chapters/*/*.md chapters/*/*.[ch] \
	solutions/*/*.c harness/*.[ch] harness/*.py plots/*.gp)
PANDOC := pandoc --from markdown --lua-filter tools/include.lua --resource-path=.:$(DATA) \
	--standalone --number-sections --toc --toc-depth=2 --top-level-division=chapter

book: deps-book html pdf
	@echo "make book: $(BOOKDIR)/book.html and $(BOOKDIR)/book.pdf (measurements: $(DATA))"
html: $(BOOKDIR)/book.html
pdf: $(BOOKDIR)/book.pdf

$(BOOKDIR)/book.html: $(BOOK_SOURCES) $(DATA)/.figures tools/book.css
	@mkdir -p $(@D)
	$(PANDOC) --self-contained --default-image-extension=svg --css tools/book.css \
		--metadata pagetitle="Concurrency in C" -o $@ book.md

$(BOOKDIR)/book.pdf: $(BOOK_SOURCES) $(DATA)/.figures tools/book.tex
	@mkdir -p $(@D)
	$(PANDOC) --pdf-engine=xelatex --default-image-extension=pdf \
		-V documentclass=report -V geometry:margin=2.2cm -V fontsize=10pt -V colorlinks \
		-V CJKmainfont="WenQuanYi Micro Hei" -H tools/book.tex -o $@ book.md
