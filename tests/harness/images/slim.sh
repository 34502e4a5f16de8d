# shellcheck shell=bash disable=SC2034
# Like debian:<suite>-slim: the minimal base system, no Python. The image build bootstraps Python
# into its builder container, as it must on the real debian:bookworm-slim.
MMDEBSTRAP_ARGS=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
)
