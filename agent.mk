# perfsight-agent and its element sources (issue 5).
# Copyright (c) 2026 The PerfSight developers.
# SPDX-License-Identifier: Apache-2.0

# The element sources (lib/sources/, behind lib/perfsight/source.h) are a
# library of the agent's own, so that libperfsight, which the perfsight
# command links, needs neither libmnl nor libvirt.
noinst_LTLIBRARIES += lib/libperfsight-sources.la
lib_libperfsight_sources_la_SOURCES = \
	lib/perfsight/source.h \
	lib/sources/cpu.c \
	lib/sources/dropreason.c \
	lib/sources/dropreason.h \
	lib/sources/guest.c \
	lib/sources/guest-parse.c \
	lib/sources/guest-proto.h \
	lib/sources/libvirt.c \
	lib/sources/middlebox.c \
	lib/sources/netlink.c \
	lib/sources/ovs.c \
	lib/sources/qmp.c \
	lib/sources/softnet.c \
	lib/sources/source.c \
	lib/sources/sources.h \
	lib/sources/tcpinfo.c
lib_libperfsight_sources_la_CPPFLAGS = $(AM_CPPFLAGS) $(LIBMNL_CFLAGS) \
	$(LIBVIRT_CFLAGS)
lib_libperfsight_sources_la_LIBADD = lib/libperfsight.la $(LIBMNL_LIBS)
if HAVE_LIBVIRT
lib_libperfsight_sources_la_LIBADD += $(LIBVIRT_LIBS)
endif

# The drop-reason source's BPF program (docs/dropreason.md), compiled for
# the BPF target and wrapped in a libbpf skeleton at build time.
EXTRA_DIST += lib/sources/dropreason.bpf.c lib/sources/dropreason-key.h
if HAVE_BPF
BPF_OBJ = lib/sources/dropreason.bpf.o
BPF_SKEL = lib/sources/dropreason.skel.h
BUILT_SOURCES = $(BPF_SKEL)
CLEANFILES += $(BPF_OBJ) $(BPF_SKEL)
lib_libperfsight_sources_la_CPPFLAGS += $(LIBBPF_CFLAGS) -Ilib/sources
lib_libperfsight_sources_la_LIBADD += $(LIBBPF_LIBS)
$(BPF_OBJ): $(srcdir)/lib/sources/dropreason.bpf.c \
		$(srcdir)/lib/sources/dropreason-key.h
	$(AM_V_GEN)$(MKDIR_P) lib/sources && \
	$(BPF_CLANG) -g -O2 -target bpf \
		-I$(srcdir)/lib/sources -I/usr/include/$(BPF_MULTIARCH) \
		$(LIBBPF_CFLAGS) -c $(srcdir)/lib/sources/dropreason.bpf.c -o $@
$(BPF_SKEL): $(BPF_OBJ)
	$(AM_V_GEN)$(BPFTOOL) gen skeleton $(BPF_OBJ) name dropreason_bpf \
		>$@.tmp && mv $@.tmp $@
endif
EXTRA_DIST += bench/bpf/bench.sh tests/bpf/dropreason.sh \
	tests/bpf/filtered-tap.py .ci/bpf.sh
# The BPF program's benchmark (bench/bpf/bench.sh, run by .ci/bpf.sh):
# a sender and a receiver that consumes or drops.
noinst_PROGRAMS += bench/bpf/udp-blast bench/bpf/udp-sink
bench_bpf_udp_blast_SOURCES = bench/bpf/udp-blast.c
bench_bpf_udp_sink_SOURCES = bench/bpf/udp-sink.c

SOURCES_LDADD = lib/libperfsight-sources.la lib/libperfsight.la \
	$(JANSSON_LIBS)

# The daemon.
bin_PROGRAMS += utilities/perfsight-agent
utilities_perfsight_agent_SOURCES = \
	utilities/perfsight-agent.c \
	utilities/agent-config.c \
	utilities/agent-config.h \
	utilities/agent-metrics.c \
	utilities/agent-metrics.h \
	utilities/agent-server.c \
	utilities/agent-server.h
utilities_perfsight_agent_CPPFLAGS = $(AM_CPPFLAGS) $(MICROHTTPD_CFLAGS)
utilities_perfsight_agent_LDADD = $(SOURCES_LDADD) $(MICROHTTPD_LIBS)

dist_man_MANS += docs/perfsight-agent.8
EXTRA_DIST += docs/agent.md data/perfsight-agent.service
systemdsystemunit_DATA += data/perfsight-agent.service
perfsightconfdir = $(sysconfdir)/perfsight
dist_perfsightconf_DATA = data/perfsight-agent.conf

# Unit tests: the parsers on sample text, and the Prometheus rendering.
AGENT_UNIT_TESTS = \
	tests/test-agent-parse \
	tests/test-agent-metrics \
	tests/test-middlebox
check_PROGRAMS += $(AGENT_UNIT_TESTS)
TESTS += $(AGENT_UNIT_TESTS)
tests_test_agent_parse_SOURCES = tests/test-agent-parse.c $(TEST_UTIL)
tests_test_agent_parse_CFLAGS = $(TEST_CFLAGS)
tests_test_agent_parse_LDADD = lib/libperfsight-sources.la $(TEST_LDADD)
tests_test_middlebox_SOURCES = tests/test-middlebox.c $(TEST_UTIL)
tests_test_middlebox_CFLAGS = $(TEST_CFLAGS)
tests_test_middlebox_LDADD = lib/libperfsight-sources.la $(TEST_LDADD)
tests_test_agent_metrics_SOURCES = tests/test-agent-metrics.c \
	utilities/agent-metrics.c utilities/agent-config.c $(TEST_UTIL)
tests_test_agent_metrics_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/utilities
tests_test_agent_metrics_CFLAGS = $(TEST_CFLAGS)
tests_test_agent_metrics_LDADD = lib/libperfsight-sources.la $(TEST_LDADD)

# Integration tests need root, network namespaces and Prometheus: they run
# from .ci/agent.sh, not from "make check".
dist_noinst_SCRIPTS += .ci/agent.sh tests/agent/lib.sh tests/agent/http.sh \
	tests/agent/live.sh tests/agent/ovs.sh tests/agent/qemu.sh \
	tests/agent/qmp-query.py tests/agent/stalled-tap.py tests/agent/udp-flood.py \
	.ci/middlebox.sh tests/middlebox/lib.sh tests/middlebox/chain.sh \
	tests/middlebox/dag.sh tests/middlebox/pipelined-put.py
dist_noinst_SCRIPTS += tests/agent/round.sh

# Benchmarks: bench/agent/bench.sh (run by .ci/agent.sh) prints figures and
# asserts nothing about time.
noinst_PROGRAMS += bench/agent/bench-snapshot
bench_agent_bench_snapshot_SOURCES = bench/agent/bench-snapshot.c
bench_agent_bench_snapshot_LDADD = $(SOURCES_LDADD)
EXTRA_DIST += bench/agent/bench.sh bench/agent/cpu.sh bench/agent/poll.py

# The middlebox preload library's benchmark (bench/middlebox/bench.sh, run
# by .ci/middlebox.sh): the cost per wrapped call and haproxy's throughput.
noinst_PROGRAMS += bench/middlebox/bench-calls
bench_middlebox_bench_calls_SOURCES = bench/middlebox/bench-calls.c
EXTRA_DIST += bench/middlebox/bench.sh
