# catalog-controller/: the controller. Every module but main.c also goes into libcatctl.a so
# tests link the exact objects that ship. Never includes broker/ headers (make lint-layering).
noinst_LIBRARIES += catalog-controller/libcatctl.a
catalog_controller_libcatctl_a_SOURCES = \
	catalog-controller/hash.c catalog-controller/hash.h \
	catalog-controller/names.c catalog-controller/names.h \
	catalog-controller/strmap.c catalog-controller/strmap.h \
	catalog-controller/queue.c catalog-controller/queue.h \
	catalog-controller/metrics.c catalog-controller/metrics.h \
	catalog-controller/kapi.c catalog-controller/kapi.h \
	catalog-controller/informer.c catalog-controller/informer.h \
	catalog-controller/osb_client.c catalog-controller/osb_client.h \
	catalog-controller/offering.c catalog-controller/offering.h \
	catalog-controller/reconcile_broker.c catalog-controller/reconcile_broker.h

bin_PROGRAMS += catalog-controller/catalog-controller
catalog_controller_catalog_controller_SOURCES = catalog-controller/main.c
catalog_controller_catalog_controller_LDADD = catalog-controller/libcatctl.a kube/libkube.a common/libosbcommon.a $(DEP_LIBS)
