lib_LTLIBRARIES += lib/libperfsight.la
lib_libperfsight_la_SOURCES = \
	lib/contention.c \
	lib/element.c \
	lib/gather.c \
	lib/gather-window.c \
	lib/json.h \
	lib/json-jansson.c \
	lib/json-simdjson.cc \
	lib/middlebox.c \
	lib/peer.c \
	lib/prometheus.c \
	lib/reader.c \
	lib/record.c \
	lib/record-parse.h \
	lib/rootcause.c \
	lib/rulebook.c \
	lib/topology.c \
	lib/util.c \
	lib/util.h \
	lib/window.c
nodist_lib_libperfsight_la_SOURCES = lib/rulebook-default.c
lib_libperfsight_la_CXXFLAGS = $(AM_CXXFLAGS) $(SIMDJSON_CFLAGS)
lib_libperfsight_la_LIBADD = $(JANSSON_LIBS) $(SIMDJSON_LIBS) $(LIBCURL_LIBS) \
	$(LIBS)
lib_libperfsight_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0

perfsightincludedir = $(includedir)/perfsight
perfsightinclude_HEADERS = \
	lib/perfsight/contention.h \
	lib/perfsight/element.h \
	lib/perfsight/gather.h \
	lib/perfsight/middlebox.h \
	lib/perfsight/peer.h \
	lib/perfsight/prometheus.h \
	lib/perfsight/record.h \
	lib/perfsight/rootcause.h \
	lib/perfsight/rulebook.h \
	lib/perfsight/topology.h \
	lib/perfsight/window.h

# The rule book is data: installed for operators to read and copy, and
# compiled in so that an uninstalled build has it too.
dist_pkgdata_DATA += data/rulebook
lib/rulebook-default.c: data/rulebook
	$(AM_V_GEN){ \
	  echo '/* Generated from data/rulebook; do not edit. */'; \
	  echo '#include <config.h>'; \
	  echo '#include "perfsight/rulebook.h"'; \
	  echo 'const char ps_rulebook_default_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' \
	    $(srcdir)/data/rulebook; \
	  echo ';'; \
	} > $@.tmp && mv $@.tmp $@
CLEANFILES += lib/rulebook-default.c

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libperfsight.pc
EXTRA_DIST += lib/libperfsight.pc.in
