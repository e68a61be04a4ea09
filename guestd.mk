# perfsight-guestd, the guest's exporter, and the tests of the agent's
# guest source (issue 11).
# Copyright (c) 2026 The PerfSight developers.
# SPDX-License-Identifier: Apache-2.0

# Static, so that it runs in any guest (an initramfs holds it alone): it
# is built from the sources it needs rather than from the libraries, which
# link libmnl, libvirt, libcurl and simdjson.  No sanitizers (they do not
# link statically); the unit tests run its code under them instead.
# --gc-sections drops the parts of source.c and record.c it never calls
# (the class table, the record reader).
sbin_PROGRAMS = utilities/perfsight-guestd
utilities_perfsight_guestd_SOURCES = \
	utilities/perfsight-guestd.c \
	utilities/guestd-answer.c \
	utilities/guestd-answer.h \
	utilities/guestd-vnic.c \
	utilities/guestd-vnic.h \
	lib/sources/guest-parse.c \
	lib/sources/middlebox.c \
	lib/sources/softnet.c \
	lib/sources/source.c \
	lib/element.c \
	lib/json-jansson.c \
	lib/middlebox.c \
	lib/record.c \
	lib/util.c
utilities_perfsight_guestd_CFLAGS = $(WARNING_FLAGS) \
	-ffunction-sections -fdata-sections
utilities_perfsight_guestd_LDFLAGS = -all-static -Wl,--gc-sections
utilities_perfsight_guestd_LDADD = $(JANSSON_LIBS) -lpthread -lm

dist_man_MANS += docs/perfsight-guestd.8
EXTRA_DIST += docs/guest.md

# Unit tests: the host's parser of answers, guestd's ethtool mapping and
# its answers read back by the host's parser.
check_PROGRAMS += tests/test-guest
TESTS += tests/test-guest
tests_test_guest_SOURCES = tests/test-guest.c utilities/guestd-answer.c \
	utilities/guestd-vnic.c $(TEST_UTIL)
tests_test_guest_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/utilities
tests_test_guest_CFLAGS = $(TEST_CFLAGS)
tests_test_guest_LDADD = lib/libperfsight-sources.la $(TEST_LDADD)

# Integration tests (root, a VM): from .ci/guest.sh.
dist_noinst_SCRIPTS += .ci/guest.sh tests/guest/e2e.sh tests/guest/libvirt.sh \
	tests/guest/hostile.sh tests/guest/hostile-peer.py \
	tests/guest/mkinitramfs.sh tests/guest/check.py tests/guest/ctl.py \
	tests/guest/relay-traffic.py
# The guest's middlebox and transmitter, without sanitizers: they run in
# the guest, the relay under the preload library.
noinst_PROGRAMS += tests/guest/relay tests/guest/udpflood
tests_guest_relay_SOURCES = tests/guest/relay.c
tests_guest_relay_CFLAGS = $(WARNING_FLAGS)
tests_guest_relay_LDFLAGS =
tests_guest_udpflood_SOURCES = tests/guest/udpflood.c
tests_guest_udpflood_CFLAGS = $(WARNING_FLAGS)
tests_guest_udpflood_LDFLAGS =

# The cost of a guest's answer to the agent (bench/guest/bench.sh, run by
# .ci/guest.sh under callgrind): figures, not pass/fail.
noinst_PROGRAMS += bench/guest/bench-parse
bench_guest_bench_parse_SOURCES = bench/guest/bench-parse.c \
	utilities/guestd-answer.c utilities/agent-metrics.c \
	utilities/agent-config.c
bench_guest_bench_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/utilities
bench_guest_bench_parse_LDADD = $(SOURCES_LDADD)
# An executable, not a libtool wrapper script, for valgrind.
bench_guest_bench_parse_LDFLAGS = $(AM_LDFLAGS) -no-install
dist_noinst_SCRIPTS += bench/guest/bench.sh
