# test/deploy/: the checks of deploy/ (docs/install.md): the Dockerfiles (their build stage run
# outside a container), the controller's RBAC against its code, and the manifests and Helm chart
# applied to the test API server (the chart rendered by test/deploy/helm-render.go, a stand-in
# for `helm template`; needs go). Each prints "N passed, M failed".
DEPLOY_TESTS = \
	test/deploy/check-dockerfiles.sh \
	test/deploy/check-rbac.sh \
	test/deploy/check-manifests.sh
TESTS += $(DEPLOY_TESTS)
EXTRA_DIST += $(DEPLOY_TESTS) test/deploy/helm-render.go test/deploy/manifests.py
