# shellcheck shell=bash
# Set-up shared by the test, demo and benchmark commands: a pinned virtualenv, a Docker engine,
# the local base images and the hauser stand-in's release files. Every step is idempotent and
# cached under $MH_CACHE, so a second run reuses what the first one made.

set -euo pipefail

MH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MH_CACHE=${MH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/multi-hauser}
MH_PYTHON=${MH_PYTHON:-python3}
mkdir -p "$MH_CACHE"

log() { printf '\033[1m[%(%H:%M:%S)T] %s\033[0m\n' -1 "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

content_hash() {  # content_hash FILE... -> short sha256 of the files' contents
  cat "$@" | sha256sum | cut -c1-12
}

ensure_venv() {
  local reqs="$MH_REPO/tests/requirements.txt" cons="$MH_REPO/tests/constraints.txt"
  MH_VENV="$MH_CACHE/venv-$(content_hash "$reqs" "$cons")"
  if [[ ! -x "$MH_VENV/.complete" ]]; then
    log "creating virtualenv $MH_VENV"
    rm -rf "$MH_VENV"
    "$MH_PYTHON" -m venv "$MH_VENV"
    "$MH_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$reqs" -c "$cons"
    printf '#!/bin/sh\n' > "$MH_VENV/.complete" && chmod +x "$MH_VENV/.complete"
  fi
  export PATH="$MH_VENV/bin:$PATH" VIRTUAL_ENV="$MH_VENV"
}

apt_install() {
  [[ -f "$MH_CACHE/.apt-updated" ]] || { apt-get update -qq && touch "$MH_CACHE/.apt-updated"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A reachable engine is used as it is; otherwise Debian's docker.io is installed and dockerd is
# started with its bridge and iptables off, so containers can only use host or no networking.
ensure_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  command -v dockerd >/dev/null || { log "installing docker.io"; apt_install docker.io; }
  command -v docker >/dev/null || die "docker.io installed no docker client"
  log "starting dockerd (no bridge, no iptables)"
  nohup dockerd --bridge=none --iptables=false --ip6tables=false \
    >"$MH_CACHE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  tail -20 "$MH_CACHE/dockerd.log" >&2
  die "dockerd did not come up within 60 s (log: $MH_CACHE/dockerd.log)"
}

# ensure_image NAME SUITE RECIPE: NAME:<hash of recipe and suite> built by mmdebstrap with the
# recipe's settings, imported, and tagged NAME:latest. Built once; later runs find the tag.
# Bump MH_IMAGE_BUILD when the way images are built here changes.
MH_IMAGE_BUILD="mmdebstrap --variant=minbase, docker import; 1"
ensure_image() {
  local name=$1 suite=$2 recipe=$3 tag tarball
  tag="$name:$(printf '%s\n%s\n' "$MH_IMAGE_BUILD" "$suite" | cat - "$recipe" | sha256sum | cut -c1-12)"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    log "building image $tag ($suite)"
    tarball=$(mktemp --suffix=.tar "$MH_CACHE/rootfs.XXXXXX")
    # shellcheck source=/dev/null
    (source "$recipe" && mmdebstrap --quiet --variant=minbase "${MMDEBSTRAP_ARGS[@]}" \
      "$suite" "$tarball") || { rm -f "$tarball"; die "mmdebstrap failed for $tag"; }
    docker import "$tarball" "$tag" >/dev/null
    rm -f "$tarball"
  fi
  docker tag "$tag" "$name:latest"
  printf '%s\n' "$tag"
}

# The images every scenario needs, built side by side: a slim Debian 12 without Python (the image
# build's base) and systemd + sshd "VMs" of Debian 12 and 13.
ensure_images() {
  local recipes="$MH_REPO/tests/harness/images" tags pids=() pid
  command -v mmdebstrap >/dev/null || { log "installing mmdebstrap"; apt_install mmdebstrap; }
  tags=$(mktemp -d)
  ensure_image multi-hauser-test/debian-slim bookworm "$recipes/slim.sh" > "$tags/slim" & pids+=($!)
  ensure_image multi-hauser-test/vm-debian12 bookworm "$recipes/vm.sh" > "$tags/vm12" & pids+=($!)
  ensure_image multi-hauser-test/vm-debian13 trixie "$recipes/vm.sh" > "$tags/vm13" & pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid" || die "building the test images failed"; done
  MH_SLIM_IMAGE=$(cat "$tags/slim") MH_VM_IMAGE_DEBIAN12=$(cat "$tags/vm12") MH_VM_IMAGE_DEBIAN13=$(cat "$tags/vm13")
  rm -rf "$tags"
  export MH_SLIM_IMAGE MH_VM_IMAGE_DEBIAN12 MH_VM_IMAGE_DEBIAN13
}

# The stand-in's release files (reproducible, so the checksums stay stable), served on loopback
# under GitHub's release URL layout for as long as the calling shell runs.
start_release_server() {
  MH_RELEASES_DIR="$MH_CACHE/releases"
  mkdir -p "$MH_RELEASES_DIR"
  python3 "$MH_REPO/tests/hauser_standin/build.py" --version 1.5.0 --version 1.5.1 \
    --out "$MH_RELEASES_DIR" >/dev/null
  local port_file
  port_file=$(mktemp)
  python3 "$MH_REPO/tests/hauser_standin/serve.py" --dir "$MH_RELEASES_DIR" --port 0 \
    --port-file "$port_file" 2>"$MH_CACHE/release-server.log" &
  MH_RELEASE_SERVER_PID=$!
  for _ in $(seq 1 50); do
    [[ -s "$port_file" ]] && break
    sleep 0.1
  done
  [[ -s "$port_file" ]] || die "the release server did not start (log: $MH_CACHE/release-server.log)"
  MH_RELEASES_URL="http://127.0.0.1:$(cat "$port_file")/fullstorydev/hauser/releases/download"
  rm -f "$port_file"
  export MH_RELEASES_DIR MH_RELEASES_URL
}

stop_release_server() {
  if [[ -n "${MH_RELEASE_SERVER_PID:-}" ]]; then kill "$MH_RELEASE_SERVER_PID" 2>/dev/null || true; fi
}

# A collections tree holding this collection, for tools that find collections by path
# (ansible-test needs .../ansible_collections/hauser/multi_hauser; molecule and the demo use the
# built and installed artifact, so that what users get is what is tested).
install_collection_artifact() {
  local dest=$1 build
  build=$(mktemp -d)
  ansible-galaxy collection build --force --output-path "$build" "$MH_REPO" >/dev/null
  ansible-galaxy collection install --force --offline -p "$dest" "$build"/hauser-multi_hauser-*.tar.gz >/dev/null
  rm -rf "$build"
}

# start_vm NAME PORT IMAGE DIR: a systemd "VM" container like molecule's (molecule/shared/create.yml),
# its sshd on 127.0.0.1:PORT, reachable as `deploy` with the key DIR/id_ed25519 (made if missing).
start_vm() {
  local name=$1 port=$2 image=$3 dir=$4
  mkdir -p "$dir"
  [[ -f "$dir/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N "" -C "$name" -f "$dir/id_ed25519"
  printf 'Port %s\n' "$port" > "$dir/$name-sshd.conf"
  docker rm --force "$name" >/dev/null 2>&1 || true
  docker run --detach --name "$name" --network host --cap-add SYS_ADMIN \
    --security-opt seccomp=unconfined --tmpfs /run --tmpfs /run/lock \
    --volume /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns host \
    --volume "$dir/$name-sshd.conf:/etc/ssh/sshd_config.d/20-port.conf:ro" \
    --volume "$dir/id_ed25519.pub:/home/deploy/.ssh/authorized_keys:ro" \
    "$image" /sbin/init >/dev/null
  for _ in $(seq 1 60); do
    if ssh -q -i "$dir/id_ed25519" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=2 -o BatchMode=yes deploy@127.0.0.1 true 2>/dev/null; then
      return
    fi
    sleep 1
  done
  die "VM $name did not answer on 127.0.0.1:$port"
}

# vm_host_vars PORT DIR: the inventory variables (a YAML flow mapping) that reach such a VM.
vm_host_vars() {
  local port=$1 dir=$2
  printf '{ansible_host: 127.0.0.1, ansible_port: %s, ansible_user: deploy, ansible_ssh_private_key_file: %s/id_ed25519, ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}' "$port" "$dir"
}
