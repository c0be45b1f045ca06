# kube/: the Kubernetes API client (config, requests, list/watch), linked by catalog-controller
# and the kubectl plugins. Depends only on common/ and libcurl, jansson, libyaml.
noinst_LIBRARIES += kube/libkube.a
kube_libkube_a_SOURCES = \
	kube/config.c kube/config.h \
	kube/client.c kube/client.h \
	kube/watch.c kube/watch.h
