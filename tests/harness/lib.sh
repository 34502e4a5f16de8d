# shellcheck shell=bash
# Set-up shared by the test, demo and benchmark commands: a pinned virtualenv, a Docker engine,
# the local base images and the hauser stand-in's release files. Every step is idempotent and
# cached under $MH_CACHE, so a second run reuses what the first one made. Runs side by side (a
# second copy of the suite among them) share that cache: what is made there is made under a lock
# and named by its content; everything else of a run is its own (new_run).

set -euo pipefail

MH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MH_CACHE=${MH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/multi-hauser}
MH_PYTHON=${MH_PYTHON:-python3}
mkdir -p "$MH_CACHE"

log() { printf '\033[1m[%(%H:%M:%S)T] %s\033[0m\n' -1 "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# new_run KIND: this run's id MH_RUN_ID (in its containers' names, labels and image tags) and its
# own temporary directory MH_WORK. Its containers are labelled with MH_RUN_ID and with the owner
# MH_RUN_OWNER (this shell), so that remove_run_containers removes exactly them when the run ends,
# and reap_dead_runs, in a later run, only those whose run's process is gone.
new_run() {
  MH_RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  MH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/multi-hauser-$1-$MH_RUN_ID.XXXXXX")
  MH_RUN_OWNER=$$
  export MH_RUN_ID MH_WORK MH_RUN_OWNER
}

vm_tool() { python3 "$MH_REPO/tests/harness/vm.py" "$@"; }

remove_run_containers() {
  if [[ -n ${MH_RUN_ID:-} ]]; then vm_tool stop --run-id "$MH_RUN_ID" >/dev/null || true; fi
}

reap_dead_runs() {
  local removed
  removed=$(vm_tool reap) || return 0
  [[ $removed == *'"removed": []'* ]] || log "removed containers of aborted runs: $removed"
}

# locked NAME COMMAND...: COMMAND while holding the lock $MH_CACHE/NAME.lock, so that runs side by
# side make a thing of the shared cache once (the other waits, then finds it made).
locked() {
  local name=$1
  shift
  ( flock 9; "$@" ) 9>"$MH_CACHE/$name.lock"
}

content_hash() {  # content_hash FILE... -> short sha256 of the files' contents
  cat "$@" | sha256sum | cut -c1-12
}

ensure_venv() {
  local reqs="$MH_REPO/tests/requirements.txt" cons="$MH_REPO/tests/constraints.txt"
  MH_VENV="$MH_CACHE/venv-$(content_hash "$reqs" "$cons")"
  if [[ ! -x "$MH_VENV/.complete" ]]; then locked venv make_venv "$MH_VENV" "$reqs" "$cons"; fi
  export PATH="$MH_VENV/bin:$PATH" VIRTUAL_ENV="$MH_VENV"
}

# ensure_compat_venv: MH_COMPAT_VENV, the virtualenv with the oldest ansible-core that
# meta/runtime.yml claims (tests/requirements-216.txt), made and cached as the main one is. Only
# made, not put on PATH: the compat stage runs its commands with it (see stage_compat in test.sh).
ensure_compat_venv() {
  local reqs="$MH_REPO/tests/requirements-216.txt" cons="$MH_REPO/tests/constraints-216.txt"
  MH_COMPAT_VENV="$MH_CACHE/venv-216-$(content_hash "$reqs" "$cons")"
  if [[ ! -x "$MH_COMPAT_VENV/.complete" ]]; then locked venv make_venv "$MH_COMPAT_VENV" "$reqs" "$cons"; fi
  export MH_COMPAT_VENV
}

make_venv() {  # make_venv VENV REQS CONS, under the lock: another run may have made it meanwhile
  local venv=$1
  [[ ! -x "$venv/.complete" ]] || return 0
  log "creating virtualenv $venv"
  rm -rf "$venv"
  "$MH_PYTHON" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$2" -c "$3"
  printf '#!/bin/sh\n' > "$venv/.complete" && chmod +x "$venv/.complete"
}

apt_install() { locked apt apt_install_locked "$@"; }
apt_install_locked() {
  [[ -f "$MH_CACHE/.apt-updated" ]] || { apt-get update -qq && touch "$MH_CACHE/.apt-updated"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# Debian's prometheus: promtool for the alert rules' tests, and the server the monitoring scenario
# starts on a port of its own. The service the package starts (on :9090) is not ours: stopped.
ensure_prometheus() {
  command -v promtool >/dev/null && return
  log "installing prometheus (promtool and the server)"
  apt_install prometheus
  if [[ -d /run/systemd/system ]]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
}

# Debian's prometheus-node-exporter package, downloaded once into $MH_CACHE/debs: the monitoring
# scenario installs it on its VM, whose image holds every package it depends on (no mirror needed).
ensure_node_exporter_deb() {
  local debs="$MH_CACHE/debs"
  MH_NODE_EXPORTER_DEB=$(find "$debs" -maxdepth 1 -name 'prometheus-node-exporter_*.deb' 2>/dev/null | sort | tail -n 1)
  if [[ -z $MH_NODE_EXPORTER_DEB ]]; then
    log "downloading prometheus-node-exporter"
    mkdir -p "$debs"
    locked apt download_deb_locked "$debs" prometheus-node-exporter
    MH_NODE_EXPORTER_DEB=$(find "$debs" -maxdepth 1 -name 'prometheus-node-exporter_*.deb' | sort | tail -n 1)
    [[ -n $MH_NODE_EXPORTER_DEB ]] || die "apt-get download prometheus-node-exporter left no package in $debs"
  fi
  export MH_NODE_EXPORTER_DEB
}

download_deb_locked() {  # download_deb_locked DIR PACKAGE, under the apt lock; into DIR whole or not at all
  local dir=$1 package=$2 partial
  [[ -f "$MH_CACHE/.apt-updated" ]] || { apt-get update -qq && touch "$MH_CACHE/.apt-updated"; }
  partial=$(mktemp -d "$dir/.partial.XXXXXX")
  (cd "$partial" && apt-get download -qq -o APT::Sandbox::User=root "$package" >/dev/null) \
    || { rm -rf "$partial"; die "apt-get download $package failed"; }
  mv "$partial"/*.deb "$dir"/ && rm -rf "$partial"
}

# A reachable engine is used as it is; otherwise Debian's docker.io is installed and dockerd is
# started with its bridge and iptables off, so containers can only use host or no networking.
ensure_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  command -v dockerd >/dev/null || { log "installing docker.io"; apt_install docker.io; }
  command -v docker >/dev/null || die "docker.io installed no docker client"
  locked docker start_dockerd
}

start_dockerd() {  # under the lock: a run side by side may have started it meanwhile
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd (no bridge, no iptables)"
  nohup dockerd --bridge=none --iptables=false --ip6tables=false \
    >"$MH_CACHE/dockerd.log" 2>&1 9>&- &
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
  local name=$1 suite=$2 recipe=$3 tag
  tag="$name:$(printf '%s\n%s\n' "$MH_IMAGE_BUILD" "$suite" | cat - "$recipe" | sha256sum | cut -c1-12)"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    locked "image-${name//\//_}" build_image "$tag" "$suite" "$recipe"
  fi
  docker tag "$tag" "$name:latest"
  printf '%s\n' "$tag"
}

build_image() {  # build_image TAG SUITE RECIPE, under the lock: a run side by side may have built it
  local tag=$1 suite=$2 recipe=$3 tarball
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    log "building image $tag ($suite)"
    tarball=$(mktemp --suffix=.tar "$MH_CACHE/rootfs.XXXXXX")
    # shellcheck source=/dev/null
    (source "$recipe" && mmdebstrap --quiet --variant=minbase "${MMDEBSTRAP_ARGS[@]}" \
      "$suite" "$tarball") || { rm -f "$tarball"; die "mmdebstrap failed for $tag"; }
    docker import "$tarball" "$tag" >/dev/null
    rm -f "$tarball"
  fi
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

# The stand-in's release files (reproducible, so the checksums stay stable), built into the run's
# own $MH_WORK/releases and served on loopback under GitHub's release URL layout for as long as the
# calling shell runs.
start_release_server() {
  local port_file log_file="$MH_WORK/release-server.log"
  MH_RELEASES_DIR="$MH_WORK/releases"
  mkdir -p "$MH_RELEASES_DIR"
  # 1.5.1 as hauser's; 1.5.0, 1.6.0 and 1.7.0 to upgrade between; 1.6.1 and 1.6.2 broken (see
  # build.py): -version fails, and every run exits at start.
  python3 "$MH_REPO/tests/hauser_standin/build.py" --version 1.5.0 --version 1.5.1 --version 1.6.0 \
    --version 1.7.0 --broken 1.6.1=version --broken 1.6.2=start --out "$MH_RELEASES_DIR" >/dev/null
  port_file=$(mktemp "$MH_WORK/release-port.XXXXXX")
  python3 "$MH_REPO/tests/hauser_standin/serve.py" --dir "$MH_RELEASES_DIR" --port 0 \
    --port-file "$port_file" 2>"$log_file" &
  MH_RELEASE_SERVER_PID=$!
  wait_port_file "$port_file" "the release server" "$log_file"
  MH_RELEASES_URL="http://127.0.0.1:$(cat "$port_file")/fullstorydev/hauser/releases/download"
  rm -f "$port_file"
  export MH_RELEASES_DIR MH_RELEASES_URL
}

# wait_port_file FILE WHAT LOG: until a server that was just started wrote its port to FILE (5 s
# at most); dies naming WHAT and its LOG otherwise.
wait_port_file() {
  local _
  for _ in $(seq 1 50); do
    [[ -s "$1" ]] && return 0
    sleep 0.1
  done
  die "$2 did not start (log: $3)"
}

stop_release_server() {
  if [[ -n "${MH_RELEASE_SERVER_PID:-}" ]]; then kill "$MH_RELEASE_SERVER_PID" 2>/dev/null || true; fi
  if [[ -n "${MH_FAKE_API_PID:-}" ]]; then kill "$MH_FAKE_API_PID" 2>/dev/null || true; fi
}

# The fake FullStory API (tests/fake_fullstory) on a free loopback port, for as long as the calling
# shell runs: configs of the scenarios point hauser's ApiURL at MH_FAKE_API_URL.
start_fake_api() {
  local port_file log_file="$MH_WORK/fake-api.log"
  [[ -z ${MH_FAKE_API_URL:-} ]] || return 0
  port_file=$(mktemp "$MH_WORK/fake-api-port.XXXXXX")
  python3 "$MH_REPO/tests/fake_fullstory/serve.py" --port 0 --port-file "$port_file" 2>"$log_file" >/dev/null &
  MH_FAKE_API_PID=$!
  wait_port_file "$port_file" "the fake FullStory API" "$log_file"
  MH_FAKE_API_URL="http://127.0.0.1:$(tr -d '[:space:]' < "$port_file")"
  rm -f "$port_file"
  export MH_FAKE_API_URL
}

# The collection's previous release, as it was at MH_PREVIOUS_COMMIT (before the layout changed),
# built and installed into DEST: the scenarios that upgrade a host deployed by it. It needs the
# checkout's history (a clone, not a shallow one).
MH_PREVIOUS_COMMIT=6ed11833578d565daa635124a815cc6f527ffd2e
install_previous_release() {
  local dest=$1 source build commit
  commit=$(git -C "$MH_REPO" rev-parse --verify --quiet "$MH_PREVIOUS_COMMIT^{commit}") \
    || die "commit ${MH_PREVIOUS_COMMIT:0:7} (the previous release) is not in this checkout's history: clone it whole (not --depth)"
  source=$(mktemp -d "$MH_WORK/previous-source.XXXXXX")
  build=$(mktemp -d "$MH_WORK/previous-build.XXXXXX")
  git -C "$MH_REPO" archive "$commit" | tar -x -C "$source"
  ansible-galaxy collection build --force --output-path "$build" "$source" >/dev/null
  ansible-galaxy collection install --force --offline -p "$dest" "$build"/hauser-multi_hauser-*.tar.gz >/dev/null
  rm -rf "$source" "$build"
  MH_PREVIOUS_COLLECTIONS=$dest
  export MH_PREVIOUS_COLLECTIONS
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

# start_vm NAME IMAGE DIR: a systemd "VM" container started by tests/harness/vm.py, as molecule's
# create.yml starts its platforms, reachable as `deploy` with the key DIR/id_ed25519 (made if
# missing); its state in DIR/vms. Sets VM_NAME, the container's name (NAME-<random token>), and
# VM_PORT, its sshd's port on 127.0.0.1, free when chosen and proven to be this VM's own.
start_vm() {
  local name=$1 image=$2 dir=$3 out
  mkdir -p "$dir"
  out=$(vm_tool start --state-dir "$dir/vms" --key "$dir/id_ed25519" --vm "$name=$image")
  # shellcheck disable=SC2034  # VM_NAME and VM_PORT are what start_vm returns to its callers
  read -r VM_NAME VM_PORT < <(python3 -c 'import json, sys; vm = json.load(sys.stdin)["vms"][0]
print(vm["container"], vm["port"])' <<<"$out")
}

# vm_host_vars PORT DIR: the inventory variables (a YAML flow mapping) that reach such a VM.
vm_host_vars() {
  local port=$1 dir=$2
  printf '{ansible_host: 127.0.0.1, ansible_port: %s, ansible_user: deploy, ansible_ssh_private_key_file: %s/id_ed25519, ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}' "$port" "$dir"
}
