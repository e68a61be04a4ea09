bin_PROGRAMS += utilities/perfsight
utilities_perfsight_SOURCES = \
	utilities/cli.c \
	utilities/cli.h \
	utilities/perfsight.c \
	utilities/perfsight-diagnose.c \
	utilities/perfsight-show.c
utilities_perfsight_LDADD = lib/libperfsight.la $(JANSSON_LIBS)
