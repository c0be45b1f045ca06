# test/unit/: one check program per module.
UNIT_TESTS = \
	test/unit/check_osb_common \
	test/unit/check_catalog \
	test/unit/check_osb_schema \
	test/unit/check_store \
	test/unit/check_lifecycle \
	test/unit/check_api
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
test_unit_check_osb_common_SOURCES = test/unit/check_osb_common.c test/lib/check_main.h
test_unit_check_osb_common_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_osb_common_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_catalog_SOURCES = test/unit/check_catalog.c
test_unit_check_catalog_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_osb_schema_SOURCES = test/unit/check_osb_schema.c
test_unit_check_osb_schema_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_osb_schema_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_store_SOURCES = test/unit/check_store.c
test_unit_check_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_store_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_lifecycle_SOURCES = test/unit/check_lifecycle.c
test_unit_check_lifecycle_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_lifecycle_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_api_SOURCES = test/unit/check_api.c
test_unit_check_api_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_api_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
EXTRA_DIST += test/unit/data
UNIT_TESTS += test/unit/check_osb_yaml test/unit/check_osb_pool
test_unit_check_osb_pool_SOURCES = test/unit/check_osb_pool.c
test_unit_check_osb_pool_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_osb_pool_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_osb_yaml_SOURCES = test/unit/check_osb_yaml.c
test_unit_check_osb_yaml_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_osb_yaml_LDADD = $(TEST_LIBS) $(CHECK_LIBS)
# kube/: the Kubernetes client library (kubeconfig, watch-stream parser, HTTP against a local server).
UNIT_TESTS += \
	test/unit/check_kube_config \
	test/unit/check_kube_watch \
	test/unit/check_kube_client
test_unit_check_kube_config_SOURCES = test/unit/check_kube_config.c
test_unit_check_kube_config_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_kube_config_LDADD = kube/libkube.a $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_kube_watch_SOURCES = test/unit/check_kube_watch.c
test_unit_check_kube_watch_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_kube_watch_LDADD = kube/libkube.a $(TEST_LIBS) $(CHECK_LIBS)
test_unit_check_kube_client_SOURCES = test/unit/check_kube_client.c
test_unit_check_kube_client_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_kube_client_LDADD = kube/libkube.a $(TEST_LIBS) $(CHECK_LIBS)
# catalog-controller/: one program per module, linking the shipped objects (libcatctl.a).
CATCTL_TEST_LIBS = catalog-controller/libcatctl.a kube/libkube.a $(TEST_LIBS) $(CHECK_LIBS)
UNIT_TESTS += \
	test/unit/check_catalog_controller_queue \
	test/unit/check_catalog_controller_names
test_unit_check_catalog_controller_queue_SOURCES = test/unit/check_catalog_controller_queue.c
test_unit_check_catalog_controller_queue_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_queue_LDADD = $(CATCTL_TEST_LIBS)
test_unit_check_catalog_controller_names_SOURCES = test/unit/check_catalog_controller_names.c
test_unit_check_catalog_controller_names_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_names_LDADD = $(CATCTL_TEST_LIBS)
UNIT_TESTS += test/unit/check_catalog_controller_broker test/unit/check_catalog_controller_svc
UNIT_TESTS += test/unit/check_catalog_controller_leader test/unit/check_catalog_controller_dispatch
test_unit_check_catalog_controller_dispatch_SOURCES = test/unit/check_catalog_controller_dispatch.c
test_unit_check_catalog_controller_dispatch_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_dispatch_LDADD = $(CATCTL_TEST_LIBS)
# the OSB client against a fake broker that answers what the controller cannot read
UNIT_TESTS += test/unit/check_catalog_controller_osb
test_unit_check_catalog_controller_osb_SOURCES = test/unit/check_catalog_controller_osb.c
test_unit_check_catalog_controller_osb_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_osb_LDADD = $(CATCTL_TEST_LIBS)
# The informer against the test API server (test/apiserver/libkts.a), in the same process.
UNIT_TESTS += test/unit/check_catalog_controller_informer
test_unit_check_catalog_controller_informer_SOURCES = test/unit/check_catalog_controller_informer.c
test_unit_check_catalog_controller_informer_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_informer_LDADD = test/apiserver/libkts.a $(CATCTL_TEST_LIBS)
test_unit_check_catalog_controller_leader_SOURCES = test/unit/check_catalog_controller_leader.c
test_unit_check_catalog_controller_leader_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_leader_LDADD = $(CATCTL_TEST_LIBS)
# which namespaces may bind to an instance (reconcile_binding.c)
UNIT_TESTS += test/unit/check_catalog_controller_sharing
test_unit_check_catalog_controller_sharing_SOURCES = test/unit/check_catalog_controller_sharing.c
test_unit_check_catalog_controller_sharing_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_sharing_LDADD = $(CATCTL_TEST_LIBS)
# the informer's index of cached objects by instance, Secret, unresolved
UNIT_TESTS += test/unit/check_catalog_controller_index
test_unit_check_catalog_controller_index_SOURCES = test/unit/check_catalog_controller_index.c
test_unit_check_catalog_controller_index_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_index_LDADD = $(CATCTL_TEST_LIBS)
# the packed form of the cached objects' JSON (packed.c)
UNIT_TESTS += test/unit/check_catalog_controller_packed
test_unit_check_catalog_controller_packed_SOURCES = test/unit/check_catalog_controller_packed.c
test_unit_check_catalog_controller_packed_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_packed_LDADD = $(CATCTL_TEST_LIBS)
# which informer event queues which keys (route.c), on detached informers
UNIT_TESTS += test/unit/check_catalog_controller_route
test_unit_check_catalog_controller_route_SOURCES = test/unit/check_catalog_controller_route.c
test_unit_check_catalog_controller_route_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_route_LDADD = $(CATCTL_TEST_LIBS)
test_unit_check_catalog_controller_svc_SOURCES = test/unit/check_catalog_controller_svc.c
test_unit_check_catalog_controller_svc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_svc_LDADD = $(CATCTL_TEST_LIBS)
test_unit_check_catalog_controller_broker_SOURCES = test/unit/check_catalog_controller_broker.c
test_unit_check_catalog_controller_broker_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_broker_LDADD = $(CATCTL_TEST_LIBS)
# catalog-controller/ params.c (P5) and credentials.c (N4, secretTransforms): pure modules.
UNIT_TESTS += test/unit/check_params test/unit/check_credentials
test_unit_check_params_SOURCES = test/unit/check_params.c
test_unit_check_params_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_params_LDADD = $(CATCTL_TEST_LIBS)
test_unit_check_credentials_SOURCES = test/unit/check_credentials.c
test_unit_check_credentials_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_credentials_LDADD = $(CATCTL_TEST_LIBS)
# catalog-controller/template.c: spec.secretTemplate's template language.
UNIT_TESTS += test/unit/check_template
test_unit_check_template_SOURCES = test/unit/check_template.c
test_unit_check_template_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_template_LDADD = $(CATCTL_TEST_LIBS)
# plugins/: the kubectl plugins' shared code.
UNIT_TESTS += test/unit/check_plugins_cli
test_unit_check_plugins_cli_SOURCES = test/unit/check_plugins_cli.c
test_unit_check_plugins_cli_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_plugins_cli_LDADD = plugins/libcli.a kube/libkube.a $(TEST_LIBS) $(CHECK_LIBS)
# the reconcilers' decisions against fake API and broker clients (fake_kapi.c, fake_osb.c stand
# in for kapi.c and osb_client.c at link time)
UNIT_TESTS += test/unit/check_catalog_controller_reconcile
test_unit_check_catalog_controller_reconcile_SOURCES = test/unit/check_catalog_controller_reconcile.c \
	test/unit/fake_kapi.c test/unit/fake_osb.c test/unit/fake_ctl.h
test_unit_check_catalog_controller_reconcile_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_catalog_controller_reconcile_LDADD = $(CATCTL_TEST_LIBS)
# catalog-controller/rotation.c: a binding's rotation policy and schedule
UNIT_TESTS += test/unit/check_rotation
test_unit_check_rotation_SOURCES = test/unit/check_rotation.c
test_unit_check_rotation_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_rotation_LDADD = $(CATCTL_TEST_LIBS)
# catalog-controller/workloads.c: which workloads use a rotated binding's Secret
UNIT_TESTS += test/unit/check_workloads
test_unit_check_workloads_SOURCES = test/unit/check_workloads.c
test_unit_check_workloads_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_unit_check_workloads_LDADD = $(CATCTL_TEST_LIBS)
