# Developer entry points. Each does its own set-up on a fresh Debian 12 machine (run as root):
# a pinned virtualenv, a Docker engine and the local base images, all cached for the next run.
.PHONY: test demo bench

test:  ## the whole test suite: unit tests, ansible-lint, ansible-test sanity, ansible-core 2.16 compat, artifact, molecule
	bash tests/harness/test.sh

demo:  ## deploy 3 example orgs to a throwaway Debian 12 VM container over SSH, then print the status
	bash tests/harness/demo.sh

bench:  ## benchmark figures (printed, never asserted): deploy at 10 and 500 orgs, a naive baseline, the image (build, size, run to RUNNING), 1 host against 3
	bash tests/harness/bench.sh
