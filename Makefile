# Thin wrappers: every target runs scripts/run, which does the work.
.PHONY: all build test demo bench lint fuzz memcheck deps

all: build

build test demo bench lint fuzz memcheck deps:
	scripts/run $@
