# Unit tests (cmocka) and integration tests (the real perfsight program on
# recordings); "make check" runs both.

TEST_UTIL = tests/test-util.c tests/test-util.h
TEST_LDADD = lib/libperfsight.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-missing-field-initializers

UNIT_TESTS = \
	tests/test-record \
	tests/test-window \
	tests/test-topology \
	tests/test-rulebook \
	tests/test-contention \
	tests/test-rootcause \
	tests/test-prometheus
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_test_record_SOURCES = tests/test-record.c $(TEST_UTIL)
tests_test_record_CFLAGS = $(TEST_CFLAGS)
tests_test_record_LDADD = $(TEST_LDADD)
tests_test_window_SOURCES = tests/test-window.c $(TEST_UTIL)
tests_test_window_CFLAGS = $(TEST_CFLAGS)
tests_test_window_LDADD = $(TEST_LDADD)
tests_test_topology_SOURCES = tests/test-topology.c $(TEST_UTIL)
tests_test_topology_CFLAGS = $(TEST_CFLAGS)
tests_test_topology_LDADD = $(TEST_LDADD)
tests_test_rulebook_SOURCES = tests/test-rulebook.c $(TEST_UTIL)
tests_test_rulebook_CFLAGS = $(TEST_CFLAGS)
tests_test_rulebook_LDADD = $(TEST_LDADD)
tests_test_contention_SOURCES = tests/test-contention.c $(TEST_UTIL)
tests_test_contention_CFLAGS = $(TEST_CFLAGS)
tests_test_contention_LDADD = $(TEST_LDADD)
tests_test_rootcause_SOURCES = tests/test-rootcause.c $(TEST_UTIL)
tests_test_rootcause_CFLAGS = $(TEST_CFLAGS)
tests_test_rootcause_LDADD = $(TEST_LDADD)
tests_test_prometheus_SOURCES = tests/test-prometheus.c $(TEST_UTIL)
tests_test_prometheus_CFLAGS = $(TEST_CFLAGS)
tests_test_prometheus_LDADD = $(TEST_LDADD)

# Integration: the installed-to-be program on files.
INTEGRATION_TESTS = \
	tests/examples.sh \
	tests/examples-order.sh \
	tests/bad-input.sh \
	tests/cli.sh \
	tests/record.sh \
	tests/plot.sh \
	tests/live.sh
TESTS += $(INTEGRATION_TESTS)
dist_noinst_SCRIPTS += $(INTEGRATION_TESTS) tests/lib.sh tests/streaming.sh \
	tests/prometheus-source.sh
AM_TESTS_ENVIRONMENT = \
	PERFSIGHT=$(abs_top_builddir)/utilities/perfsight \
	EXAMPLES=$(abs_top_srcdir)/examples \
	top_srcdir=$(abs_top_srcdir) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; \
	export PERFSIGHT EXAMPLES top_srcdir ASAN_OPTIONS UBSAN_OPTIONS;
