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
