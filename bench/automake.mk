# Benchmarks: "make bench" builds and runs them; they print figures and
# assert nothing about time.
noinst_PROGRAMS += bench/bench-diagnose
bench_bench_diagnose_SOURCES = bench/bench-diagnose.c bench/bench-util.h
bench_bench_diagnose_LDADD = lib/libperfsight.la $(JANSSON_LIBS)

noinst_PROGRAMS += bench/bench-gather
bench_bench_gather_SOURCES = bench/bench-gather.c bench/bench-util.h
bench_bench_gather_LDADD = lib/libperfsight.la $(JANSSON_LIBS)
dist_noinst_SCRIPTS += bench/gather.sh

bench: bench/bench-diagnose bench/bench-gather utilities/perfsight-agent
	$(builddir)/bench/bench-diagnose 5
	$(srcdir)/bench/gather.sh $(builddir) 100 100
	$(srcdir)/bench/gather.sh $(builddir) 1000 9
.PHONY: bench
