# catalog-controller/: the controller. Every module but main.c also goes into libcatctl.a so
# tests link the exact objects that ship. Never includes broker/ headers (make lint-layering).
noinst_LIBRARIES += catalog-controller/libcatctl.a
catalog_controller_libcatctl_a_SOURCES = \
	catalog-controller/params.c catalog-controller/params.h catalog-controller/credentials.c catalog-controller/credentials.h \
	catalog-controller/template.c catalog-controller/template.h \
	catalog-controller/names.c catalog-controller/names.h \
	catalog-controller/queue.c catalog-controller/queue.h \
	catalog-controller/metrics.c catalog-controller/metrics.h \
	catalog-controller/kapi.c catalog-controller/kapi.h \
	catalog-controller/ctl.c catalog-controller/ctl.h \
	catalog-controller/informer.c catalog-controller/informer.h \
	catalog-controller/osb_response.c catalog-controller/osb_response.h \
	catalog-controller/osb_client.c catalog-controller/osb_client.h \
	catalog-controller/offering.c catalog-controller/offering.h \
	catalog-controller/broker.c catalog-controller/broker.h catalog-controller/reconcile_broker.c catalog-controller/reconcile_broker.h \
	catalog-controller/cached.c catalog-controller/cached.h catalog-controller/packed.c catalog-controller/packed.h catalog-controller/condition.c catalog-controller/condition.h \
	catalog-controller/kobj.c catalog-controller/kobj.h catalog-controller/resolve.c catalog-controller/resolve.h \
	catalog-controller/request.c catalog-controller/request.h catalog-controller/pass.c catalog-controller/pass.h \
	catalog-controller/adopt.c catalog-controller/adopt.h \
	catalog-controller/reconcile_instance.c catalog-controller/reconcile_instance.h \
	catalog-controller/reconcile_binding.c catalog-controller/reconcile_binding.h \
	catalog-controller/leader.c catalog-controller/leader.h \
	catalog-controller/route.c catalog-controller/route.h \
	catalog-controller/dispatch.c catalog-controller/dispatch.h

bin_PROGRAMS += catalog-controller/catalog-controller
catalog_controller_catalog_controller_SOURCES = catalog-controller/main.c
catalog_controller_catalog_controller_LDADD = catalog-controller/libcatctl.a kube/libkube.a common/libosbcommon.a $(DEP_LIBS)
# binding credential rotation: the policy and the schedule (pure)
catalog_controller_libcatctl_a_SOURCES += catalog-controller/rotation.c catalog-controller/rotation.h
# workloads told of a rotation (opt-in): the pod templates that use a binding's Secret
catalog_controller_libcatctl_a_SOURCES += catalog-controller/workloads.c catalog-controller/workloads.h
# the steps of a binding's credential rotation (state in status.credentialsRotation)
catalog_controller_libcatctl_a_SOURCES += catalog-controller/reconcile_rotation.c catalog-controller/reconcile_rotation.h
# a binding's Secret (name, owner, write, delete): the binding's bind and its rotation write it alike
catalog_controller_libcatctl_a_SOURCES += catalog-controller/binding_secret.c catalog-controller/binding_secret.h
