#!/usr/bin/env bash
# Benchmark figures, from a fresh Debian 12 machine (as root): wall-clock seconds of playbook runs
# over real SSH, with the CPU seconds they cost on the controller and in the VM beside them (the
# machine may be busy with other work: CPU seconds hardly notice, wall-clock seconds do). Printed,
# never asserted: this is no part of the test suite.
#   tests/harness/bench.sh                every section
#   tests/harness/bench.sh deploy naive   only the named sections (setup always runs)
# Sections:
#   keyfile  tests/bench/bench_keyfile.py: parse and stagger a key file of 10,000 orgs
#   deploy   ansible-playbook hauser.multi_hauser.deploy over SSH to a fresh systemd VM container,
#            first run then no-op run, with MH_BENCH_SMALL (10) and MH_BENCH_LARGE (500) orgs
#   naive    tests/bench/naive.yml (one template task per file, looped) with MH_BENCH_NAIVE (100)
#            orgs, first run then no-op run: the per-file round trips the role avoids
# A section is a function bench_NAME that adds rows to the table (add_row, add_note) and may
# print its own details after it (add_detail); add one to SECTIONS to have it run by default.
# Every run has the ansible.posix.profile_tasks callback on; the logs stay in $MH_BENCH_LOGS
# (default $MH_CACHE/bench-logs, emptied at each start) and each section prints where the time
# went, task by task. Each VM container (mh-bench-*, sshd on 127.0.0.1:2330-2339) is removed as
# soon as its figures are taken, and on exit.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECTIONS=(keyfile deploy naive)
MH_BENCH_SMALL=${MH_BENCH_SMALL:-10}
MH_BENCH_LARGE=${MH_BENCH_LARGE:-500}
MH_BENCH_NAIVE=${MH_BENCH_NAIVE:-100}
MH_BENCH_LOGS=${MH_BENCH_LOGS:-$MH_CACHE/bench-logs}

MH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/multi-hauser-bench.XXXXXX")
BENCH_VMS=() BENCH_FAILED=0
cleanup() {
  local name
  for name in "${BENCH_VMS[@]}"; do docker rm --force "$name" >/dev/null 2>&1 || true; done
  stop_release_server
  rm -rf "$MH_WORK"
}
trap cleanup EXIT

# --- the table ----------------------------------------------------------------------------------

TABLE=() DETAILS=()
add_row() {  # add_row WHAT ORGS FIRST_S NOOP_S [REMARK]
  TABLE+=("$(printf '%-28s %6s %13s %13s   %s' "$1" "$2" "$3" "$4" "${5:-}")")
}
add_note() { TABLE+=("$*"); }
add_detail() { DETAILS+=("$*"); }

print_table() {
  local line
  for line in "${DETAILS[@]}"; do printf '\n%s\n' "$line"; done
  printf '\n%-28s %6s %13s %13s   %s\n' what orgs "first run s" "no-op run s" "remark"
  for line in "${TABLE[@]}"; do printf '%s\n' "$line"; done
}

ratio() {  # ratio A B: A/B, or n/a when a run failed
  if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
  else printf 'n/a'; fi
}
cpu_total() {  # cpu_total A+B: the sum, or n/a
  if [[ $1 =~ ^[0-9.]+\+[0-9.]+$ ]]; then awk -v a="${1%+*}" -v b="${1#*+}" 'BEGIN { printf "%.1f", a + b }'
  else printf 'n/a'; fi
}
within() {  # within RATIO TARGET: met, MISSED, or nothing for n/a
  [[ $1 == n/a ]] || awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? " (met)" : " (MISSED)") }'
}

# --- measuring ----------------------------------------------------------------------------------

# make_keyfile COUNT PATH: org ids o-000001-na1... with random keys of 36 characters.
make_keyfile() {
  python3 - "$1" "$2" <<'PY'
import secrets, sys
count, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    for index in range(1, count + 1):
        out.write("o-%06d-na1,na1.%s\n" % (index, secrets.token_urlsafe(24)))
PY
  chmod 0600 "$2"
}

# start_bench_vm NAME PORT DIR: a fresh Debian 12 VM, with its inventory (group multi_hauser) and
# the deploy variables in DIR.
start_bench_vm() {
  local name=$1 port=$2 dir=$3
  log "starting VM $name (127.0.0.1:$port)"
  BENCH_VMS+=("$name")
  start_vm "$name" "$port" "$MH_VM_IMAGE_DEBIAN12" "$dir"
  printf 'multi_hauser:\n  hosts:\n    %s: %s\n' "$name" "$(vm_host_vars "$port" "$dir")" > "$dir/inventory.yml"
}

remove_bench_vm() {
  docker rm --force "$1" >/dev/null 2>&1 || true
}

# write_vars DIR KEYFILE: the deploy's variables. The controller's download cache is the
# scenario's own, so that every first run downloads the release as a first run does.
write_vars() {
  cat > "$1/vars.yml" <<EOF
multi_hauser_keyfile: $2
multi_hauser_provider: local
multi_hauser_local_save_dir: /srv/hauser-data
multi_hauser_download_url: "$MH_RELEASES_URL/v{{ multi_hauser_version }}"
multi_hauser_apt_cache_valid_time: 31536000
multi_hauser_cache_dir: $1/controller-cache
EOF
}

# timed_playbook LABEL VM ARGS...: ansible-playbook ARGS (against the VM container VM), its output
# in $MH_BENCH_LOGS/LABEL.log. Sets RUN_SECONDS (wall clock, or "failed"), RUN_CPU (CPU seconds,
# "controller+VM", see tests/bench/timed_run.py), RUN_ERROR (the first error line of a failed
# run), RUN_CHANGED (the recap's changed= over all hosts) and RUN_LOAD (the machine's 1-minute
# load average at the end). Wall-clock seconds are the figures; CPU seconds and the load tell how
# much other work on the machine stretched them. A failed run is reported in the table, not fatal
# at once: the other figures are still worth having (the command fails at the end).
timed_playbook() {
  local label=$1 vm=$2 rc wall controller_cpu vm_cpu
  shift 2
  local log_file="$MH_BENCH_LOGS/$label.log"
  log "ansible-playbook $label"
  RUN_ERROR=""
  read -r rc wall controller_cpu vm_cpu < <(cd "$MH_WORK" && \
    python "$MH_REPO/tests/bench/timed_run.py" "$vm" "$log_file" -- ansible-playbook "$@")
  RUN_SECONDS=$wall RUN_CPU="$controller_cpu+$vm_cpu"
  if [[ ${rc:-1} -ne 0 ]]; then
    RUN_SECONDS=failed BENCH_FAILED=1
    RUN_ERROR=$(grep -m1 -a -E '^\[ERROR\]|^fatal:' "$log_file" | cut -c1-150 || true)
    tail -n 20 "$log_file" | cut -c1-300 >&2
    log "ansible-playbook $label FAILED (log: $log_file)"
  fi
  RUN_CHANGED=$(sed -n 's/.* changed=\([0-9]*\) .*/\1/p' "$log_file" | awk '{ n += $1 } END { print n + 0 }')
  RUN_LOAD=$(cut -d' ' -f1 /proc/loadavg)
  log "ansible-playbook $label: $RUN_SECONDS s (cpu $RUN_CPU s), changed=$RUN_CHANGED, load average $RUN_LOAD"
}

# settle NAME COUNT: wait (untimed, 300 s at most) until no program on the VM is STARTING or in
# BACKOFF any more, so that the no-op run does not share the CPU with hundreds of programs still
# starting. Sets SETTLED to how many of the COUNT programs are RUNNING then.
settle() {
  local name=$1 count=$2 start states=""
  start=$(date +%s)
  while (( $(date +%s) - start < 300 )); do
    states=$(docker exec "$name" supervisorctl status 2>/dev/null | awk '{ print $2 }' | sort | uniq -c \
      | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }' || true)
    [[ -n $states && $states != *STARTING* && $states != *BACKOFF* ]] && break
    sleep 2
  done
  SETTLED=$(docker exec "$name" supervisorctl status 2>/dev/null | grep -c ' RUNNING ' || true)
  log "$name after $(( $(date +%s) - start )) s: ${states:-no programs}"
  (( SETTLED >= count )) || log "warning: only $SETTLED of $count programs are RUNNING"
}

# first_and_noop NAME PORT ORGS PLAYBOOK: a fresh VM, ORGS orgs, the playbook twice with the same
# inputs, then the VM is removed. Sets FIRST_S, NOOP_S, FIRST_CPU, NOOP_CPU and REMARK (the CPU
# seconds and load averages of both runs; what went wrong, if anything).
first_and_noop() {
  local name=$1 port=$2 orgs=$3 playbook=$4 dir="$MH_WORK/$1" first_load first_error
  mkdir -p "$dir"
  make_keyfile "$orgs" "$dir/keys.csv"
  write_vars "$dir" "$dir/keys.csv"
  start_bench_vm "$name" "$port" "$dir"
  timed_playbook "$name-first" "$name" -i "$dir/inventory.yml" -e "@$dir/vars.yml" "$playbook"
  FIRST_S=$RUN_SECONDS FIRST_CPU=$RUN_CPU first_load=$RUN_LOAD first_error=$RUN_ERROR
  settle "$name" "$orgs"
  timed_playbook "$name-noop" "$name" -i "$dir/inventory.yml" -e "@$dir/vars.yml" "$playbook"
  NOOP_S=$RUN_SECONDS NOOP_CPU=$RUN_CPU
  REMARK="cpu s $FIRST_CPU / $NOOP_CPU, load $first_load / $RUN_LOAD"
  (( SETTLED >= orgs )) || REMARK+="; only $SETTLED of $orgs programs RUNNING after the first run"
  [[ $RUN_CHANGED -eq 0 || $NOOP_S == failed ]] || REMARK+="; the no-op run changed $RUN_CHANGED"
  [[ -z $first_error ]] || REMARK+="; first run: $first_error"
  [[ -z $RUN_ERROR ]] || REMARK+="; no-op run: $RUN_ERROR"
  remove_bench_vm "$name"
}

# task_table TITLE COLUMN=RUN...: where the time went, per task, from the logs of the runs
task_table() {
  local title=$1 run args=()
  shift
  for run in "$@"; do args+=("${run%%=*}=$MH_BENCH_LOGS/${run#*=}.log"); done
  add_detail "$title
$(python "$MH_REPO/tests/bench/task_times.py" --min 0.3 "${args[@]}")"
}

# --- sections -----------------------------------------------------------------------------------

bench_keyfile() {
  local out
  out=$(cd "$MH_REPO" && python tests/bench/bench_keyfile.py)
  log "$out"
  add_note "$out"
}

bench_deploy() {
  local small=$MH_BENCH_SMALL large=$MH_BENCH_LARGE first_small noop_small first_ratio noop_ratio
  local first_cpu_small noop_cpu_small
  first_and_noop "mh-bench-deploy-$small" 2330 "$small" hauser.multi_hauser.deploy
  first_small=$FIRST_S noop_small=$NOOP_S first_cpu_small=$(cpu_total "$FIRST_CPU") noop_cpu_small=$(cpu_total "$NOOP_CPU")
  add_row "multi_hauser deploy" "$small" "$FIRST_S" "$NOOP_S" "$REMARK"
  first_and_noop "mh-bench-deploy-$large" 2331 "$large" hauser.multi_hauser.deploy
  add_row "multi_hauser deploy" "$large" "$FIRST_S" "$NOOP_S" "$REMARK"
  first_ratio=$(ratio "$FIRST_S" "$first_small") noop_ratio=$(ratio "$NOOP_S" "$noop_small")
  add_note "$(printf 'ratio %s/%s (targets: no-op <= 1.5, first <= 2)   first %s%s  no-op %s%s' \
    "$large" "$small" "$first_ratio" "$(within "$first_ratio" 2)" "$noop_ratio" "$(within "$noop_ratio" 1.5)")"
  add_note "$(printf 'ratio %s/%s of CPU seconds (controller+VM; less load-dependent)  first %s  no-op %s' "$large" "$small" \
    "$(ratio "$(cpu_total "$FIRST_CPU")" "$first_cpu_small")" "$(ratio "$(cpu_total "$NOOP_CPU")" "$noop_cpu_small")")"
  task_table "where the deploy's time goes (profile_tasks, s; tasks over 0.3 s in some run)" \
    "$small first=mh-bench-deploy-$small-first" "$small no-op=mh-bench-deploy-$small-noop" \
    "$large first=mh-bench-deploy-$large-first" "$large no-op=mh-bench-deploy-$large-noop"
}

bench_naive() {
  local orgs=$MH_BENCH_NAIVE
  first_and_noop "mh-bench-naive-$orgs" 2332 "$orgs" "$MH_REPO/tests/bench/naive.yml"
  add_row "naive template loop" "$orgs" "$FIRST_S" "$NOOP_S" "$REMARK"
  add_note "(naive: $((2 * orgs)) directories, $((2 * orgs)) templated files, one loop item each)"
  task_table "where the naive play's time goes (profile_tasks, s; tasks over 0.3 s in some run)" \
    "$orgs first=mh-bench-naive-$orgs-first" "$orgs no-op=mh-bench-naive-$orgs-noop"
}

# --- main ---------------------------------------------------------------------------------------

SELECTED=("$@")
[[ ${#SELECTED[@]} -gt 0 ]] || SELECTED=("${SECTIONS[@]}")
for section in "${SELECTED[@]}"; do
  declare -F "bench_$section" >/dev/null || die "unknown section '$section' (sections: ${SECTIONS[*]})"
done

log "setup"
ensure_venv
ensure_docker
ensure_images >/dev/null
start_release_server
install_collection_artifact "$MH_WORK/collections"
rm -rf "$MH_BENCH_LOGS" && mkdir -p "$MH_BENCH_LOGS"

export ANSIBLE_COLLECTIONS_PATH="$MH_WORK/collections" ANSIBLE_PIPELINING=1 \
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
  PROFILE_TASKS_SORT_ORDER=none PROFILE_TASKS_TASK_OUTPUT_LIMIT=all \
  ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0

for section in "${SELECTED[@]}"; do
  log "section $section"
  "bench_$section"
done

print_table
printf '\nlogs: %s\n' "$MH_BENCH_LOGS"
# Timing never fails the command; a playbook run that failed does.
[[ $BENCH_FAILED -eq 0 ]] || die "a playbook run failed (see the table and the logs)"
