# test/apiserver/: the test Kubernetes API server (filled in by its owner)
