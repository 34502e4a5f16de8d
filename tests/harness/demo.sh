#!/usr/bin/env bash
# The demo: 3 example orgs (local provider, no cloud credentials) deployed with the collection to a
# throwaway Debian 12 VM container over SSH, then the status table. hauser is the test stand-in,
# served on loopback; where GitHub is reachable, drop multi_hauser_download_url to use the release.
# Each demo is its own: a VM container named mh-demo-<random token>, its sshd on a loopback port
# chosen free at run time (tests/harness/vm.py), and a directory $MH_CACHE/demo/<run id> with its
# key, inventory and variables. Both stay for you to try things; the demo says how to remove them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MH_RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
DEMO_DIR="$MH_CACHE/demo/$MH_RUN_ID"
MH_WORK=$DEMO_DIR  # the release server's files, too
export MH_RUN_ID MH_WORK
unset MH_RUN_OWNER  # the VM outlives this command: no later run may reap it

ensure_venv
ensure_docker
ensure_images >/dev/null
start_release_server
on_exit() {
  local rc=$?
  stop_release_server
  if [[ $rc -ne 0 && -n ${VM_NAME:-} ]]; then
    echo "The demo failed. Remove its VM and directory with: docker rm -f $VM_NAME && rm -rf $DEMO_DIR" >&2
  fi
}
trap on_exit EXIT

mkdir -p "$DEMO_DIR"
install_collection_artifact "$DEMO_DIR/collections"
export ANSIBLE_COLLECTIONS_PATH="$DEMO_DIR/collections" ANSIBLE_PIPELINING=1

log "starting the VM container"
start_vm mh-demo "$MH_VM_IMAGE_DEBIAN12" "$DEMO_DIR"
log "VM container $VM_NAME, sshd on 127.0.0.1:$VM_PORT"

cat > "$DEMO_DIR/inventory.yml" <<EOF
multi_hauser:
  hosts:
    demo-vm: $(vm_host_vars "$VM_PORT" "$DEMO_DIR")
EOF
# Example keys: the stand-in never calls FullStory. The last line has no final newline on purpose.
printf '# org_id,api_key\no-DEMO01-na1,na1.demoKeyOne0001\no-DEMO02-na1,na1.demoKeyTwo0002\no-DEMO03-na1,na1.demoKeyThree003' \
  > "$DEMO_DIR/keys.csv"
chmod 0600 "$DEMO_DIR/keys.csv"
cat > "$DEMO_DIR/vars.yml" <<EOF
multi_hauser_keyfile: $DEMO_DIR/keys.csv
multi_hauser_provider: local
multi_hauser_local_save_dir: /srv/hauser-data
multi_hauser_download_url: $MH_RELEASES_URL/v{{ multi_hauser_version }}
multi_hauser_apt_cache_valid_time: 31536000
EOF

log "deploying 3 orgs"
ansible-playbook -i "$DEMO_DIR/inventory.yml" hauser.multi_hauser.deploy -e "@$DEMO_DIR/vars.yml"
log "status"
ansible-playbook -i "$DEMO_DIR/inventory.yml" hauser.multi_hauser.status -e "@$DEMO_DIR/vars.yml"

cat <<EOF

The demo VM is running: container $VM_NAME, sshd on 127.0.0.1:$VM_PORT. Try:
  source $MH_VENV/bin/activate; export ANSIBLE_COLLECTIONS_PATH=$DEMO_DIR/collections
  ansible-playbook -i $DEMO_DIR/inventory.yml hauser.multi_hauser.status -e @$DEMO_DIR/vars.yml
  docker exec $VM_NAME supervisorctl status
(Deploying again needs the stand-in's release server: run make demo again, which makes a new VM.)
Remove it, and its directory, with:
  docker rm -f $VM_NAME && rm -rf $DEMO_DIR
EOF
