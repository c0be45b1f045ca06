# plugins/: the kubectl plugins (docs/kubectl-plugins.md). kubectl runs kubectl-NAME from the
# PATH for "kubectl NAME" and kubectl-create-NAME for "kubectl create NAME"; make install puts
# them next to the daemons. They share plugins/cli.c on top of kube/ (the Kubernetes client).
noinst_LIBRARIES += plugins/libcli.a
plugins_libcli_a_SOURCES = plugins/cli.c plugins/cli.h
PLUGIN_LIBS = plugins/libcli.a kube/libkube.a common/libosbcommon.a $(DEP_LIBS)
