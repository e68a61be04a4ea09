# The middlebox preload library (issue 10, docs/middlebox.md).
# Copyright (c) 2026 The PerfSight developers.
# SPDX-License-Identifier: Apache-2.0

# Loaded into programs that were not built with sanitizers, so it is built
# without them; it carries its own copy of the segment writer
# (lib/middlebox.c), hidden, so that it needs libc alone.
pkglib_LTLIBRARIES += preload/libperfsight-preload.la
preload_libperfsight_preload_la_SOURCES = preload/preload.c lib/middlebox.c
preload_libperfsight_preload_la_CPPFLAGS = -I$(top_srcdir)/lib
# -flto inlines the segment writer's counting into the wrappers: about a
# third of the instructions a wrapped call adds.
preload_libperfsight_preload_la_CFLAGS = $(WARNING_FLAGS) -O2 \
	-fvisibility=hidden -flto
preload_libperfsight_preload_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,-z,defs -O2 -flto
preload_libperfsight_preload_la_LIBADD = -ldl -lpthread

# Its test: the same calls with and without it.  The program is built
# without sanitizers too: ASan's runtime must come first in a process, and
# the library is preloaded before it.
check_PROGRAMS += tests/preload-calls
tests_preload_calls_SOURCES = tests/preload-calls.c
tests_preload_calls_CFLAGS = $(WARNING_FLAGS)
tests_preload_calls_LDFLAGS =
TESTS += tests/preload.sh
dist_noinst_SCRIPTS += tests/preload.sh
