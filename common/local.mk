# common/: code both daemons link.
noinst_LIBRARIES += common/libosbcommon.a
common_libosbcommon_a_SOURCES = \
	common/banned.h common/osb_compat.h common/osb_macro.h \
	common/osb_mem.c common/osb_mem.h \
	common/osb_error.c common/osb_error.h \
	common/osb_log.c common/osb_log.h \
	common/osb_buf.c common/osb_buf.h \
	common/osb_parse.c common/osb_parse.h \
	common/osb_settings.c common/osb_settings.h \
	common/osb_json.c common/osb_json.h \
	common/osb_yaml.c common/osb_yaml.h \
	common/osb_http.c common/osb_http.h \
	common/osb_base64.c common/osb_base64.h \
	common/osb_file.c common/osb_file.h \
	common/osb_hash.c common/osb_hash.h \
	common/osb_time.c common/osb_time.h \
	common/osb_schema.c common/osb_schema.h \
	common/osb_strmap.c common/osb_strmap.h \
	common/osb_pool.c common/osb_pool.h
