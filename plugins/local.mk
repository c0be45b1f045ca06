# plugins/: the kubectl plugins (docs/kubectl-plugins.md). kubectl runs kubectl-NAME from the
# PATH for "kubectl NAME" and kubectl-create-NAME for "kubectl create NAME"; make install puts
# them next to the daemons. They share plugins/cli.c on top of kube/ (the Kubernetes client).
noinst_LIBRARIES += plugins/libcli.a
plugins_libcli_a_SOURCES = plugins/cli.c plugins/cli.h
PLUGIN_LIBS = plugins/libcli.a kube/libkube.a common/libosbcommon.a $(DEP_LIBS)

# "kubectl create serviceinstance" and "kubectl create servicebinding" (plugins/create.c is what
# the two share).
bin_PROGRAMS += plugins/kubectl-create-serviceinstance plugins/kubectl-create-servicebinding
plugins_kubectl_create_serviceinstance_SOURCES = plugins/kubectl-create-serviceinstance.c \
	plugins/create.c plugins/create.h
plugins_kubectl_create_serviceinstance_LDADD = $(PLUGIN_LIBS)
plugins_kubectl_create_servicebinding_SOURCES = plugins/kubectl-create-servicebinding.c \
	plugins/create.c plugins/create.h
plugins_kubectl_create_servicebinding_LDADD = $(PLUGIN_LIBS)
