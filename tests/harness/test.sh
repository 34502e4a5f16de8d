#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root) to a verdict:
#   tests/harness/test.sh            every stage
#   tests/harness/test.sh units lint only the named stages (setup always runs)
# Stages: units, lint, sanity, artifact, image, molecule. Each runs even when an earlier one failed;
# the command fails if any stage failed, and prints every stage's duration at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STAGES=(units lint sanity artifact image molecule)
STAGES=("$@")
[[ ${#STAGES[@]} -gt 0 ]] || STAGES=("${ALL_STAGES[@]}")
for stage in "${STAGES[@]}"; do
  [[ " ${ALL_STAGES[*]} " == *" $stage "* ]] || die "unknown stage '$stage' (stages: ${ALL_STAGES[*]})"
done

MH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/multi-hauser-test.XXXXXX")
trap 'stop_release_server; rm -rf "$MH_WORK"' EXIT

# Stage: the unit and property tests of the filters, and the tests of the hauser stand-in.
stage_units() {
  (cd "$MH_REPO" && python -m pytest -q -p no:cacheprovider tests/unit tests/standin)
}

# ansible-lint finds the collection's own FQCNs through the installed artifact.
stage_lint() {
  install_collection_artifact "$MH_WORK/lint"
  (cd "$MH_REPO" && ANSIBLE_COLLECTIONS_PATH="$MH_WORK/lint" ansible-lint --profile production)
}

# ansible-test wants the collection at .../ansible_collections/<namespace>/<name>, and bootstraps
# pip in its virtualenvs with a script it downloads from a host unreachable here: give it ours.
stage_sanity() {
  local tree="$MH_WORK/sanity/ansible_collections/hauser/multi_hauser" pip_version
  pip_version=$(python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
  command -v shellcheck >/dev/null || apt_install shellcheck
  install -D -m 0644 "$MH_REPO/tests/harness/get_pip_offline.py" \
    "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  mkdir -p "$tree"
  (cd "$MH_REPO" && git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$tree"
  (cd "$tree" && git init -q && git add -A && ansible-test sanity --python 3.11 --color no)
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
# good and bad key files, stopped, and searched for keys (tests/image).
stage_image() {
  install_collection_artifact "$MH_WORK/image"
  (cd "$MH_REPO" && ANSIBLE_COLLECTIONS_PATH="$MH_WORK/image" python -m pytest -q -p no:cacheprovider tests/image)
}

stage_molecule() {
  install_collection_artifact "$MH_WORK/collections"
  (cd "$MH_REPO" && ANSIBLE_COLLECTIONS_PATH="$MH_WORK/collections" molecule test --all)
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
