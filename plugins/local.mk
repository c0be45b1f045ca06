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

# "kubectl svcat" (plugins/svcat.h is what its files share), and kubectl_complete-svcat, which
# kubectl >= 1.26 runs to complete "kubectl svcat ..." (it asks kubectl-svcat __complete).
bin_PROGRAMS += plugins/kubectl-svcat
plugins_kubectl_svcat_SOURCES = plugins/kubectl-svcat.c plugins/svcat.h plugins/svcat_get.c \
	plugins/svcat_describe.c plugins/svcat_migrate.c plugins/svcat_params.c plugins/svcat_params.h
plugins_kubectl_svcat_LDADD = $(PLUGIN_LIBS)
bin_SCRIPTS = plugins/kubectl_complete-svcat
EXTRA_DIST += plugins/kubectl_complete-svcat.in
CLEANFILES += plugins/kubectl_complete-svcat
plugins/kubectl_complete-svcat: $(srcdir)/plugins/kubectl_complete-svcat.in
	@$(MKDIR_P) plugins
	$(AM_V_GEN)cp $(srcdir)/plugins/kubectl_complete-svcat.in $@ && chmod +x $@
