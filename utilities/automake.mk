bin_PROGRAMS += utilities/perfsight
utilities_perfsight_SOURCES = \
	utilities/cli.c \
	utilities/cli.h \
	utilities/cli-live.c \
	utilities/cli-live.h \
	utilities/perfsight.c \
	utilities/perfsight-attributes.c \
	utilities/perfsight-diagnose.c \
	utilities/perfsight-plot.c \
	utilities/perfsight-record.c \
	utilities/perfsight-show.c \
	utilities/perfsight-watch.c
utilities_perfsight_LDADD = lib/libperfsight.la $(JANSSON_LIBS) $(LIBCURL_LIBS)
