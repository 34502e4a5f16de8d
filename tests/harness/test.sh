#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root) to a verdict:
#   tests/harness/test.sh            every stage
#   tests/harness/test.sh units lint only the named stages (setup always runs)
#   MH_MOLECULE_SCENARIOS="smoke deploy" tests/harness/test.sh molecule   some molecule scenarios
# Stages: units, lint, sanity, compat, artifact, image, harness, molecule. Each runs even when an
# earlier one failed; the command fails if any stage failed, and prints every stage's duration at
# the end.
# Runs side by side (a second copy of the suite among them) do not collide: each has its own
# temporary directory ($MH_WORK), container names, image tags and loopback ports, and removes only
# its own containers (see new_run in lib.sh, and tests/harness/vm.py).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STAGES=(units lint sanity compat artifact image harness molecule)
STAGES=("$@")
[[ ${#STAGES[@]} -gt 0 ]] || STAGES=("${ALL_STAGES[@]}")
for stage in "${STAGES[@]}"; do
  [[ " ${ALL_STAGES[*]} " == *" $stage "* ]] || die "unknown stage '$stage' (stages: ${ALL_STAGES[*]})"
done

new_run test
trap 'stop_release_server; remove_run_containers; rm -rf "$MH_WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stage: the unit and property tests of the filters, and the tests of the hauser stand-in.
# tests/monitoring runs promtool (Debian's prometheus package) on the shipped alert rules.
stage_units() {
  ensure_prometheus
  (cd "$MH_REPO" && python -m pytest -q -p no:cacheprovider --basetemp="$MH_WORK/pytest-units" \
    tests/unit tests/standin tests/monitoring)
}

# ansible-lint finds the collection's own FQCNs through the installed artifact.
stage_lint() {
  install_collection_artifact "$MH_WORK/lint"
  (cd "$MH_REPO" && ANSIBLE_COLLECTIONS_PATH="$MH_WORK/lint" ansible-lint --profile production)
}

# ansible-test wants the collection at .../ansible_collections/<namespace>/<name>, and bootstraps
# pip in its virtualenvs with a script it downloads from a host unreachable here: give it ours.
stage_sanity() {
  local tree="$MH_WORK/sanity/ansible_collections/hauser/multi_hauser"
  command -v shellcheck >/dev/null || apt_install shellcheck
  mkdir -p "$tree"
  (cd "$MH_REPO" && git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$tree"
  # ansible-test keeps its virtualenvs in ~/.ansible/test, and removes one it finds half made: runs
  # side by side take turns.
  locked ansible-test sanity_locked "$tree" "$(sanity_pip_version)"
}

# The pip that the ansible-test on PATH bootstraps its virtualenvs with.
sanity_pip_version() {
  python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
}

# sanity_locked TREE PIP_VERSION [ARG...]: ansible-test sanity ARG... in TREE.
sanity_locked() {
  local tree=$1 pip_version=$2 get_pip
  shift 2
  get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  cmp -s "$MH_REPO/tests/harness/get_pip_offline.py" "$get_pip" \
    || install -D -m 0644 "$MH_REPO/tests/harness/get_pip_offline.py" "$get_pip"
  (cd "$tree" && git init -q && git add -A && ansible-test sanity --python 3.11 --color no "$@")
}

# The oldest ansible-core that meta/runtime.yml claims (2.16, the latest patch; its own virtualenv,
# tests/requirements-216.txt), with the controller's Python 3.11: the unit tests, ansible-test
# sanity of what the artifact ships, and the smoke scenario. Each part runs even when an earlier one
# failed.
stage_compat() {
  local rc=0 compat_path collections="$MH_WORK/compat/collections" scenarios=() scenario
  ensure_compat_venv
  compat_path="$MH_COMPAT_VENV/bin:$PATH"
  log "compat: unit tests with $(PATH=$compat_path ansible --version | head -n 1)"
  (cd "$MH_REPO" && PATH=$compat_path VIRTUAL_ENV=$MH_COMPAT_VENV python -m pytest -q -p no:cacheprovider \
    --basetemp="$MH_WORK/pytest-compat" tests/unit) || rc=1

  # Sanity of the artifact as 2.16's ansible-galaxy builds and installs it: what users get. The
  # tests, the harness and molecule's playbooks are not in it; the sanity stage checks them, with
  # 2.19's ansible-test.
  log "compat: ansible-test sanity (2.16) of the artifact"
  PATH=$compat_path install_collection_artifact "$collections"
  # --skip-test empty-init: 2.16 wants every __init__.py under plugins/module_utils empty, and
  # module_utils/core's holds the package's docstring (no code). 2.16's AnsiballZ ships a
  # collection package's __init__.py as it is, and 2.17+ no longer checks module_utils for this;
  # plugins/modules and tests/unit, which 2.19 still checks, are checked by the sanity stage.
  PATH=$compat_path VIRTUAL_ENV=$MH_COMPAT_VENV locked ansible-test sanity_locked \
    "$collections/ansible_collections/hauser/multi_hauser" "$(PATH=$compat_path sanity_pip_version)" \
    --skip-test empty-init || rc=1

  # smoke and deploy (MH_COMPAT_SCENARIOS for others; these two need nothing else of the molecule
  # stage's set-up; deploy runs the whole role, the monitor included), as the molecule stage runs a
  # scenario (one copy), with 2.16's ansible and molecule and the artifact its ansible-galaxy installed.
  read -r -a scenarios <<< "${MH_COMPAT_SCENARIOS:-smoke deploy}"
  log "compat: molecule scenario(s) ${scenarios[*]}"
  PATH=$compat_path install_collection_artifact "$MH_WORK/compat/molecule-collections"
  start_fake_api
  mkdir -p "$MH_WORK/molecule"
  MOLECULE_TABLE=()
  for scenario in "${scenarios[@]}"; do
    molecule_scenario "$scenario" "$scenario-216" PATH="$compat_path" VIRTUAL_ENV="$MH_COMPAT_VENV" \
      ANSIBLE_COLLECTIONS_PATH="$MH_WORK/compat/molecule-collections" || rc=1
  done
  printf '%s\n' "${MOLECULE_TABLE[@]}"
  return "$rc"
}

# What users get: the built artifact (without tests or molecule) installs offline, and
# ansible-doc documents its filters from the installed copy.
stage_artifact() {
  local collections="$MH_WORK/artifact" name out
  install_collection_artifact "$collections"
  local installed="$collections/ansible_collections/hauser/multi_hauser"
  for unwanted in tests molecule .ci Makefile; do
    [[ ! -e "$installed/$unwanted" ]] || { echo "artifact carries $unwanted" >&2; return 1; }
  done
  for name in parse_keyfile stagger_delays; do
    out=$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH="$collections" ansible-doc -t filter "hauser.multi_hauser.$name")
    for section in OPTIONS EXAMPLES 'RETURN VALUES'; do
      grep -q "^$section" <<<"$out" || { echo "ansible-doc $name lacks $section" >&2; return 1; }
    done
  done
}

# The container image: built once by the installed artifact's build_image playbook, then run with
# good and bad key files, stopped, and searched for keys (tests/image). Its containers and image
# are the session's own (tests/image/dockerhelpers.py). A Prometheus of the tests scrapes a
# container's /metrics (tests/harness/promserver.py).
stage_image() {
  ensure_prometheus
  install_collection_artifact "$MH_WORK/image"
  (cd "$MH_REPO" && ANSIBLE_COLLECTIONS_PATH="$MH_WORK/image" python -m pytest -q -p no:cacheprovider \
    --basetemp="$MH_WORK/pytest-image" tests/image)
}

# The harness's own tests (tests/harness/test_vm.py): VM start-up beside a port another service
# holds, a lost race for a port, VMs of runs side by side, removal of exactly one run's VMs.
stage_harness() {
  (cd "$MH_REPO" && python -m pytest -q -p no:cacheprovider --basetemp="$MH_WORK/pytest-harness" tests/harness)
}

# Every molecule scenario (molecule/*/molecule.yml, smoke first; MH_MOLECULE_SCENARIOS="smoke deploy"
# for some), one after the other, each with an ephemeral directory of its own under $MH_WORK/molecule
# (MOLECULE_EPHEMERAL_DIRECTORY). smoke runs as two copies side by side, the second one's VM first
# given a port that a listener other than sshd holds (as if lost after the choice): both must pass,
# on distinct containers and ports, the second on another port than the listener's.
stage_molecule() {
  local scenarios=() scenario file failed=0
  if [[ -n ${MH_MOLECULE_SCENARIOS:-} ]]; then
    read -r -a scenarios <<< "$MH_MOLECULE_SCENARIOS"
  else
    scenarios=(smoke)  # first: the quickest check that the VMs work at all
    for file in "$MH_REPO"/molecule/*/molecule.yml; do
      scenario=$(basename "$(dirname "$file")")
      [[ $scenario == smoke ]] || scenarios+=("$scenario")
    done
  fi
  for scenario in "${scenarios[@]}"; do
    [[ -f "$MH_REPO/molecule/$scenario/molecule.yml" ]] || { echo "no molecule scenario '$scenario'" >&2; return 1; }
  done
  install_collection_artifact "$MH_WORK/collections"
  install_previous_release "$MH_WORK/previous-collections"
  start_fake_api
  # The monitoring scenario's Prometheus (tests/harness/promserver.py), and node_exporter for its VM.
  ensure_prometheus
  ensure_node_exporter_deb
  mkdir -p "$MH_WORK/molecule"
  MOLECULE_TABLE=()
  for scenario in "${scenarios[@]}"; do
    if [[ $scenario == smoke ]]; then
      molecule_side_by_side smoke || failed=1
    else
      molecule_scenario "$scenario" "$scenario" || failed=1
    fi
  done
  printf '\n%-22s %-7s %8s\n' scenario result seconds
  printf '%s\n' "${MOLECULE_TABLE[@]}"
  return "$failed"
}

# molecule_scenario SCENARIO COPY [NAME=VALUE...]: molecule test of SCENARIO with the environment
# NAME=VALUE... (PATH or ANSIBLE_COLLECTIONS_PATH among them, to run it with other tools or another
# artifact), its ephemeral directory $MH_WORK/molecule/COPY; vm.py logs the VMs it starts to
# $MH_WORK/molecule/COPY.vms. Adds its row to MOLECULE_TABLE, and writes it to $MH_WORK/molecule/COPY.row.
molecule_scenario() {
  local scenario=$1 copy=$2 start rc=0
  shift 2
  start=$(date +%s)
  (cd "$MH_REPO" && env ANSIBLE_COLLECTIONS_PATH="$MH_WORK/collections" \
    MOLECULE_EPHEMERAL_DIRECTORY="$MH_WORK/molecule/$copy" MH_VM_LOG="$MH_WORK/molecule/$copy.vms" "$@" \
    molecule test --scenario-name "$scenario") || rc=$?
  printf '%-22s %-7s %8s\n' "$copy" "$([[ $rc -eq 0 ]] && echo passed || echo FAILED)" "$(( $(date +%s) - start ))" \
    > "$MH_WORK/molecule/$copy.row"
  MOLECULE_TABLE+=("$(cat "$MH_WORK/molecule/$copy.row")")
  return "$rc"
}

# molecule_side_by_side SCENARIO: two copies of the scenario at once (SCENARIO-1 and SCENARIO-2), the
# second one's first port held by a decoy: a listener that greets like OpenSSH and is not sshd.
molecule_side_by_side() {
  local scenario=$1 decoy_pid decoy_port port_file pids=() rc=0 copy
  port_file=$(mktemp "$MH_WORK/decoy-port.XXXXXX")
  python3 - "$port_file" <<'PY' &
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(16)
with open(sys.argv[1], "w") as out:
    out.write("%d\n" % server.getsockname()[1])
while True:
    client, _ = server.accept()
    client.sendall(b"SSH-2.0-OpenSSH_9.2p1 decoy, not sshd\r\n")
    client.close()
PY
  decoy_pid=$!
  for _ in $(seq 1 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  decoy_port=$(cat "$port_file")
  log "molecule $scenario: two copies side by side; the second one's VM is offered first 127.0.0.1:$decoy_port, which a decoy holds"
  molecule_scenario "$scenario" "$scenario-1" > "$MH_WORK/molecule/$scenario-1.log" 2>&1 & pids+=($!)
  molecule_scenario "$scenario" "$scenario-2" MH_VM_FIRST_PORTS="$decoy_port" \
    > "$MH_WORK/molecule/$scenario-2.log" 2>&1 & pids+=($!)
  for copy in 1 2; do
    wait "${pids[copy - 1]}" || rc=1
    sed "s/^/[$scenario-$copy] /" "$MH_WORK/molecule/$scenario-$copy.log"
    MOLECULE_TABLE+=("$(cat "$MH_WORK/molecule/$scenario-$copy.row" 2>/dev/null || echo "$scenario-$copy FAILED")")
  done
  kill "$decoy_pid" 2>/dev/null || true
  python3 - "$MH_WORK/molecule/$scenario-1.vms" "$MH_WORK/molecule/$scenario-2.vms" "$decoy_port" <<'PY' || rc=1
import json, sys
first, second = ([json.loads(line) for line in open(path)] if __import__("os").path.exists(path) else []
                 for path in sys.argv[1:3])
decoy = int(sys.argv[3])
problems = []
if not first or not second:
    problems.append("a copy started no VM")
else:
    for vm in first + second:
        print("%-14s container %s on 127.0.0.1:%d, ports tried: %s" % (vm["instance"], vm["container"], vm["port"],
              ", ".join("%d (%s)" % (a["port"], a["result"]) for a in vm["attempts"])))
    names = [vm["container"] for vm in first + second]
    ports = [vm["port"] for vm in first + second]
    if len(set(names)) != len(names) or len(set(ports)) != len(ports):
        problems.append("the copies share a container name or a port: %s %s" % (names, ports))
    if decoy in ports:
        problems.append("a VM runs on the decoy's port %d" % decoy)
    if not any(a["port"] == decoy and "another process" in a["result"] for vm in second for a in vm["attempts"]):
        problems.append("the second copy did not find port %d taken" % decoy)
for problem in problems:
    print("side by side: " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  return "$rc"
}

declare -A DURATION RESULT
run_stage() {
  local name=$1 start
  start=$(date +%s)
  log "stage $name"
  if "stage_$name"; then RESULT[$name]=passed; else RESULT[$name]=FAILED; fi
  DURATION[$name]=$(( $(date +%s) - start ))
  log "stage $name: ${RESULT[$name]} in ${DURATION[$name]} s"
}

start=$(date +%s)
ensure_venv
ensure_docker
ensure_images >/dev/null
reap_dead_runs
start_release_server
DURATION[setup]=$(( $(date +%s) - start )); RESULT[setup]=passed

for stage in "${STAGES[@]}"; do run_stage "$stage"; done

passed=0 failed=0
printf '\n%-10s %-7s %8s\n' stage result seconds
for stage in setup "${STAGES[@]}"; do
  printf '%-10s %-7s %8s\n' "$stage" "${RESULT[$stage]}" "${DURATION[$stage]}"
  if [[ ${RESULT[$stage]} == passed ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
printf 'total      %-7s %8s\n' "" "$(( $(date +%s) - start ))"
echo "stages: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
