# libFuzzer targets (configure --enable-fuzzing; build-aux/fuzz runs them).
# Each tests/fuzz/fuzz-TARGET has a seed corpus in tests/fuzz/corpus/TARGET/
# and may have a dictionary tests/fuzz/TARGET.dict.
# Copyright (c) 2026 The PerfSight developers.
# SPDX-License-Identifier: Apache-2.0

FUZZ_TARGETS = \
	tests/fuzz/fuzz-reader \
	tests/fuzz/fuzz-topology \
	tests/fuzz/fuzz-rulebook \
	tests/fuzz/fuzz-prometheus \
	tests/fuzz/fuzz-ovs \
	tests/fuzz/fuzz-qmp \
	tests/fuzz/fuzz-http \
	tests/fuzz/fuzz-guest \
	tests/fuzz/fuzz-kernel
noinst_PROGRAMS += $(FUZZ_TARGETS)

FUZZ_CFLAGS = $(AM_CFLAGS) -Wno-missing-field-initializers
# -no-install: executables, not libtool wrapper scripts, that find the
# uninstalled libperfsight by their rpath.
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS) -no-install
FUZZ_LDADD = lib/libperfsight.la $(JANSSON_LIBS)
FUZZ_AGENT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/utilities
FUZZ_AGENT_LDADD = lib/libperfsight-sources.la lib/libperfsight.la \
	$(LIBMNL_LIBS) $(LIBVIRT_LIBS) $(JANSSON_LIBS)

tests_fuzz_fuzz_reader_SOURCES = tests/fuzz/fuzz-reader.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-window.h
tests_fuzz_fuzz_reader_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_reader_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_reader_LDADD = $(FUZZ_LDADD)

tests_fuzz_fuzz_topology_SOURCES = tests/fuzz/fuzz-topology.c \
	tests/fuzz/fuzz.h
tests_fuzz_fuzz_topology_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_topology_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_topology_LDADD = $(FUZZ_LDADD)

tests_fuzz_fuzz_rulebook_SOURCES = tests/fuzz/fuzz-rulebook.c \
	tests/fuzz/fuzz.h
tests_fuzz_fuzz_rulebook_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_rulebook_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rulebook_LDADD = $(FUZZ_LDADD)

tests_fuzz_fuzz_prometheus_SOURCES = tests/fuzz/fuzz-prometheus.c \
	tests/fuzz/fuzz.h tests/fuzz/fuzz-window.h
tests_fuzz_fuzz_prometheus_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_prometheus_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_prometheus_LDADD = $(FUZZ_LDADD)

tests_fuzz_fuzz_ovs_SOURCES = tests/fuzz/fuzz-ovs.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-sources.h utilities/agent-metrics.c \
	utilities/agent-config.c
tests_fuzz_fuzz_ovs_CPPFLAGS = $(FUZZ_AGENT_CPPFLAGS)
tests_fuzz_fuzz_ovs_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ovs_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ovs_LDADD = $(FUZZ_AGENT_LDADD)

tests_fuzz_fuzz_qmp_SOURCES = tests/fuzz/fuzz-qmp.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-sources.h utilities/agent-metrics.c \
	utilities/agent-config.c
tests_fuzz_fuzz_qmp_CPPFLAGS = $(FUZZ_AGENT_CPPFLAGS)
tests_fuzz_fuzz_qmp_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_qmp_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_qmp_LDADD = $(FUZZ_AGENT_LDADD)

tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz-http.c tests/fuzz/fuzz.h \
	utilities/agent-server.c utilities/agent-metrics.c \
	utilities/agent-config.c
tests_fuzz_fuzz_http_CPPFLAGS = $(FUZZ_AGENT_CPPFLAGS) $(MICROHTTPD_CFLAGS)
tests_fuzz_fuzz_http_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_http_LDADD = $(FUZZ_AGENT_LDADD) $(MICROHTTPD_LIBS)

tests_fuzz_fuzz_guest_SOURCES = tests/fuzz/fuzz-guest.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-sources.h utilities/agent-metrics.c \
	utilities/agent-config.c
tests_fuzz_fuzz_guest_CPPFLAGS = $(FUZZ_AGENT_CPPFLAGS)
tests_fuzz_fuzz_guest_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_guest_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_guest_LDADD = $(FUZZ_AGENT_LDADD)

tests_fuzz_fuzz_kernel_SOURCES = tests/fuzz/fuzz-kernel.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_kernel_CPPFLAGS = $(FUZZ_AGENT_CPPFLAGS) $(LIBMNL_CFLAGS)
tests_fuzz_fuzz_kernel_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_kernel_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_kernel_LDADD = $(FUZZ_AGENT_LDADD)
