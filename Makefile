# Twinline: every target is a thin wrapper around a script in scripts/, so the
# same steps run by hand, from make and from CI.
#
#   make demo    install what is missing, build, run the demo (about 1.5 minutes idle)
#   make test    install what is missing, build with sanitizers, run all tests
#   make bench   end-to-end benchmark on the real services (fsync on)
#   make faults  fault drill: kill -9 and SIGSTOP of dispatchers with standbys,
#                a rebalance, PostgreSQL/NATS restarts, a NATS cluster node and
#                a PostgreSQL primary killed (make test runs its first part)
#   make build   build the debug preset (PRESET=release|asan|debug)
#   make format  clang-format every C source and header
#   make clean   stop leftover services and remove build/ and run/

SHELL := /bin/bash
PRESET ?= debug

.PHONY: all demo test bench faults build format clean

all: build

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh

faults:
	@scripts/faults.sh --full

build:
	@scripts/build.sh $(PRESET)

format:
	@scripts/format.sh

clean:
	@scripts/clean.sh
