# Benchmarks: "make bench" builds and runs them; they print figures and
# assert nothing about time.
noinst_PROGRAMS += bench/bench-diagnose
bench_bench_diagnose_SOURCES = bench/bench-diagnose.c
bench_bench_diagnose_LDADD = lib/libperfsight.la $(JANSSON_LIBS)

bench: bench/bench-diagnose
	$(builddir)/bench/bench-diagnose 5
.PHONY: bench
