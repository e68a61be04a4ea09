dist_man_MANS += docs/perfsight.8
EXTRA_DIST += \
	docs/design.md \
	docs/diagnoses.md \
	docs/dropreason.md \
	docs/formats.md \
	docs/fuzzing.md \
	docs/lab.md \
	docs/middlebox.md
