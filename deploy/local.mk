# deploy/: manifests, Dockerfiles and the Helm chart (docs/install.md). Nothing here is built by
# "make"; "make image-broker image-controller" builds the container images with docker or
# podman (CONTAINER_ENGINE=... to choose), from the top of the source tree.
IMAGE_REGISTRY = ghcr.io/bindery
IMAGE_TAG = $(PACKAGE_VERSION)
CONTAINER_ENGINE =

image-broker image-controller:
	@engine='$(CONTAINER_ENGINE)'; \
	if test -z "$$engine"; then \
	  for e in docker podman; do \
	    if $$e info >/dev/null 2>&1; then engine=$$e; break; fi; \
	  done; \
	fi; \
	if test -z "$$engine" || ! $$engine info >/dev/null 2>&1; then \
	  echo "$@: no working container engine (tried: $${engine:-docker podman}; '<engine> info' fails)." >&2; \
	  echo "$@: start dockerd or install podman, or set CONTAINER_ENGINE=..." >&2; \
	  exit 1; \
	fi; \
	what=$$(echo '$@' | sed 's/^image-//'); \
	case $$what in broker) name=osb-broker ;; *) name=catalog-controller ;; esac; \
	echo "$$engine build -f deploy/docker/Dockerfile.$$what -t $(IMAGE_REGISTRY)/$$name:$(IMAGE_TAG) $(abs_top_srcdir)"; \
	$$engine build -f '$(abs_top_srcdir)'/deploy/docker/Dockerfile.$$what -t '$(IMAGE_REGISTRY)'/$$name:'$(IMAGE_TAG)' '$(abs_top_srcdir)'

# The Helm chart's crds/ are symbolic links to deploy/crds/ (Helm follows them when it reads the
# chart directory); test/deploy/check-manifests.sh checks they resolve to the same files.
.PHONY: image-broker image-controller
EXTRA_DIST += .dockerignore
