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
#   image    the container image: ansible-playbook hauser.multi_hauser.build_image as the image
#            tests build it (its seconds, the image's size), then docker run with a key file of
#            MH_BENCH_IMAGE_SMALL (10) and MH_BENCH_IMAGE_LARGE (100) orgs until every org's
#            program is RUNNING, docker stop's seconds and the container's exit code
#   plan     the plan playbook's seconds on the controller (no host is contacted) for
#            MH_BENCH_PLAN_SMALL (100 orgs over 1 host) and MH_BENCH_PLAN_LARGE (10,000 orgs over
#            100 hosts): one assignment per run, orgs x hosts; and how often the key file is opened
#   noop     on one VM: a one-task play (tests/bench/one_task.yml) and the no-op deploy side by
#            side, MH_BENCH_NOOP_ROUNDS (3) times each, with MH_BENCH_NOOP_SMALL (10) then
#            MH_BENCH_NOOP_LARGE (300) orgs: their medians and ratios, the remote module runs of a
#            no-op deploy, and how often a deploy opens the key file (strace)
#   monitor  the monitor with MH_BENCH_MONITOR (500) orgs exporting to the fake FullStory API: the
#            first deploy's seconds until every org RUNNING without the monitor and with it (each
#            on a fresh VM), then the monitor's CPU over MH_BENCH_MONITOR_SECONDS (60) while the
#            orgs catch up and once they all wait (steady state), as a share of one core
#   multihost  deploy over SSH, first run then no-op run: one VM with MH_BENCH_MULTI /
#            MH_BENCH_MULTI_HOSTS (300 / 3 = 100) orgs, against MH_BENCH_MULTI_HOSTS VMs in one
#            inventory with MH_BENCH_MULTI orgs spread over them (handled in parallel: the
#            ratio should stay close to 1)
# A section is a function bench_NAME that adds rows to the table (add_row, add_note) and may
# print its own details after it (add_detail); add one to SECTIONS to have it run by default.
# Every run has the ansible.posix.profile_tasks callback on; the logs stay in $MH_BENCH_LOGS
# (default $MH_CACHE/bench-logs/<run id>, this run's own) and each section prints where the time
# went, task by task. Each VM container (mh-bench-*-<random token>, started by tests/harness/vm.py,
# its sshd on a loopback port chosen free at run time), and each container and image of the image
# section (mh-bench-*, named with the run id), is removed as soon as its figures are taken, and on
# exit (every container labelled with this run). Benchmarks side by side do not collide, though
# they do stretch each other's wall-clock seconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECTIONS=(keyfile plan noop deploy naive image monitor multihost)
MH_BENCH_SMALL=${MH_BENCH_SMALL:-10}
MH_BENCH_LARGE=${MH_BENCH_LARGE:-500}
MH_BENCH_NAIVE=${MH_BENCH_NAIVE:-100}
MH_BENCH_IMAGE_SMALL=${MH_BENCH_IMAGE_SMALL:-10}
MH_BENCH_IMAGE_LARGE=${MH_BENCH_IMAGE_LARGE:-100}
MH_BENCH_MULTI=${MH_BENCH_MULTI:-300}
MH_BENCH_MULTI_HOSTS=${MH_BENCH_MULTI_HOSTS:-3}
MH_BENCH_MONITOR=${MH_BENCH_MONITOR:-500}
MH_BENCH_MONITOR_SECONDS=${MH_BENCH_MONITOR_SECONDS:-60}
MH_BENCH_PLAN_SMALL=${MH_BENCH_PLAN_SMALL:-100x1}
MH_BENCH_PLAN_LARGE=${MH_BENCH_PLAN_LARGE:-10000x100}
MH_BENCH_NOOP_SMALL=${MH_BENCH_NOOP_SMALL:-10}
MH_BENCH_NOOP_LARGE=${MH_BENCH_NOOP_LARGE:-300}
MH_BENCH_NOOP_ROUNDS=${MH_BENCH_NOOP_ROUNDS:-3}
new_run bench
MH_BENCH_LOGS=${MH_BENCH_LOGS:-$MH_CACHE/bench-logs/$MH_RUN_ID}

BENCH_IMAGES=() BENCH_FAILED=0
cleanup() {
  local name builders
  remove_run_containers
  for name in "${BENCH_IMAGES[@]}"; do
    # an interrupted build_image may leave its builder container, labelled with the image's name
    mapfile -t builders < <(docker ps --all --quiet --filter "label=hauser.multi_hauser.builder=$name" 2>/dev/null || true)
    [[ ${#builders[@]} -eq 0 ]] || docker rm --force "${builders[@]}" >/dev/null 2>&1 || true
    docker image rm --force "$name" >/dev/null 2>&1 || true
  done
  stop_release_server
  rm -rf "$MH_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# start_bench_vm HOST DIR: a fresh Debian 12 VM, added as HOST to the inventory DIR/inventory.yml
# (group multi_hauser; made with this VM alone if missing). The deploy variables are in DIR. Sets
# VM_NAME, its container's name (HOST-<random token>).
start_bench_vm() {
  local host=$1 dir=$2
  start_vm "$host" "$MH_VM_IMAGE_DEBIAN12" "$dir"
  log "VM $host: container $VM_NAME, sshd on 127.0.0.1:$VM_PORT"
  [[ -f $dir/inventory.yml ]] || printf 'multi_hauser:\n  hosts:\n' > "$dir/inventory.yml"
  printf '    %s: %s\n' "$host" "$(vm_host_vars "$VM_PORT" "$dir")" >> "$dir/inventory.yml"
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

# timed_playbook LABEL VMS ARGS...: ansible-playbook ARGS (against the VM containers VMS, comma-
# separated; "-" for none), its output in $MH_BENCH_LOGS/LABEL.log. Sets RUN_SECONDS (wall clock,
# or "failed"), RUN_CPU (CPU seconds, "controller+VM", the VMs' summed, "n/a" for none; see
# tests/bench/timed_run.py), RUN_ERROR (the first error line of a failed
# run), RUN_CHANGED (the recap's changed= over all hosts) and RUN_LOAD (the machine's 1-minute
# load average at the end). Wall-clock seconds are the figures; CPU seconds and the load tell how
# much other work on the machine stretched them. A failed run is reported in the table, not fatal
# at once: the other figures are still worth having (the command fails at the end).
timed_playbook() {
  local label=$1 vms=$2 rc wall controller_cpu vm_cpu
  shift 2
  local log_file="$MH_BENCH_LOGS/$label.log"
  log "ansible-playbook $label"
  RUN_ERROR=""
  read -r rc wall controller_cpu vm_cpu < <(cd "$MH_WORK" && \
    python "$MH_REPO/tests/bench/timed_run.py" "$vms" "$log_file" -- ansible-playbook "$@")
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

# hauser_programs NAME [STATE]: how many hauser programs (hauser-ORG, in a group or not)
# supervisord in the container NAME lists (in STATE only, if given); 0 while it does not answer.
# supervisorctl exits non-zero while any program is not RUNNING: its output still counts.
hauser_programs() {
  docker exec "$1" supervisorctl status 2>/dev/null | awk -v state="${2:-}" '
    { name = $1; sub(/.*:/, "", name) }
    name ~ /^hauser-/ && (state == "" || $2 == state) { count++ }
    END { print count + 0 }' || true
}

# first_and_noop NAME HOSTS ORGS PLAYBOOK: HOSTS fresh VMs (inventory hosts NAME for one,
# NAME-1, NAME-2... for several, all in one inventory), ORGS orgs in all, the playbook twice with
# the same inputs, then the VMs are removed. Sets FIRST_S, NOOP_S, FIRST_CPU, NOOP_CPU (the VMs'
# CPU summed), VM_ORGS (the hauser programs each VM got from the first run, "a/b/c") and REMARK
# (the CPU seconds and load averages of both runs; what went wrong, if anything).
first_and_noop() {
  local name=$1 hosts=$2 orgs=$3 playbook=$4 dir="$MH_WORK/$1" first_load first_error vm count settled=0
  local vms=() host
  mkdir -p "$dir"
  make_keyfile "$orgs" "$dir/keys.csv"
  write_vars "$dir" "$dir/keys.csv"
  # The inventory's host names are fixed (the orgs' shares depend on them); the containers' are the run's.
  for (( count = 1; count <= hosts; count++ )); do
    host=$name
    [[ $hosts -eq 1 ]] || host="$name-$count"
    start_bench_vm "$host" "$dir"
    vms+=("$VM_NAME")
  done
  local vm_list
  vm_list=$(IFS=,; printf '%s' "${vms[*]}")
  timed_playbook "$name-first" "$vm_list" -i "$dir/inventory.yml" -e "@$dir/vars.yml" "$playbook"
  FIRST_S=$RUN_SECONDS FIRST_CPU=$RUN_CPU first_load=$RUN_LOAD first_error=$RUN_ERROR
  VM_ORGS=""
  for vm in "${vms[@]}"; do
    # With one VM it runs every org; with several, each runs the share the role gave it.
    count=$orgs
    [[ ${#vms[@]} -eq 1 ]] || count=$(hauser_programs "$vm")
    VM_ORGS+="${VM_ORGS:+/}$count"
    settle "$vm" "$count"
    settled=$(( settled + SETTLED ))
  done
  SETTLED=$settled
  timed_playbook "$name-noop" "$vm_list" -i "$dir/inventory.yml" -e "@$dir/vars.yml" "$playbook"
  NOOP_S=$RUN_SECONDS NOOP_CPU=$RUN_CPU
  REMARK="cpu s $FIRST_CPU / $NOOP_CPU, load $first_load / $RUN_LOAD"
  (( SETTLED >= orgs )) || REMARK+="; only $SETTLED of $orgs programs RUNNING after the first run"
  [[ $RUN_CHANGED -eq 0 || $NOOP_S == failed ]] || REMARK+="; the no-op run changed $RUN_CHANGED"
  [[ -z $first_error ]] || REMARK+="; first run: $first_error"
  [[ -z $RUN_ERROR ]] || REMARK+="; no-op run: $RUN_ERROR"
  vm_tool stop --state-dir "$dir/vms" >/dev/null
}

# task_table TITLE COLUMN=RUN...: where the time went, per task, from the logs of the runs
task_table() {
  local title=$1 run args=()
  shift
  for run in "$@"; do args+=("${run%%=*}=$MH_BENCH_LOGS/${run#*=}.log"); done
  add_detail "$title
$(python "$MH_REPO/tests/bench/task_times.py" --min 0.3 "${args[@]}")"
}

# The image section's: the image it builds, and how long a container may take to run every org.
MH_BENCH_IMAGE_NAME=mh-bench-multi-hauser:bench-$MH_RUN_ID
MH_BENCH_IMAGE_TIMEOUT=180

now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }  # microseconds since the epoch
seconds_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# image_run ORGS: docker run of the built image with a key file of ORGS orgs, as the image tests
# run it (--network none, the key file read-only at /secrets/keys.csv), polled every 0.15 s until
# every org's program is RUNNING ($MH_BENCH_IMAGE_TIMEOUT s at most); then docker stop, and the
# container is removed (its docker logs stay in $MH_BENCH_LOGS/NAME.log). Sets RUN_S (seconds
# from docker run to all RUNNING, or "failed"), STOP_S (docker stop's seconds, or "-"),
# EXIT_CODE (the container's after the stop) and REMARK. A container that never runs every org,
# or exits other than 0, fails the command at the end.
image_run() {
  local orgs=$1 name="mh-bench-image-$1-$MH_RUN_ID" keys="$MH_WORK/image/keys-$1.csv" start running=0 state
  local labels
  make_keyfile "$orgs" "$keys"
  chmod 0644 "$keys"  # as the image tests write theirs
  mapfile -t labels < <(vm_tool labels)  # this run's: removed on exit, reaped once the run is gone
  RUN_S=failed STOP_S=- EXIT_CODE=- REMARK=""
  log "docker run $name ($orgs orgs)"
  start=$(now_us)
  if docker run --detach --name "$name" --network none "${labels[@]}" --volume "$keys:/secrets/keys.csv:ro" \
    "$MH_BENCH_IMAGE_NAME" >/dev/null; then
    while :; do
      running=$(hauser_programs "$name" RUNNING)
      if (( running == orgs )); then RUN_S=$(seconds_since "$start"); break; fi
      if (( running == 0 )); then  # supervisord not up yet, or the container is gone
        state=$(docker inspect --format '{{.State.Status}}' "$name" 2>/dev/null || printf 'gone')
        if [[ $state != running ]]; then REMARK="the container is $state before every org ran"; break; fi
      fi
      if (( $(now_us) - start > MH_BENCH_IMAGE_TIMEOUT * 1000000 )); then
        REMARK="only $running of $orgs programs RUNNING after $MH_BENCH_IMAGE_TIMEOUT s"; break
      fi
      sleep 0.15
    done
  else
    REMARK="docker run failed"
  fi
  log "$name: all RUNNING after $RUN_S s${REMARK:+ ($REMARK)}"
  if [[ $(docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null) == true ]]; then
    start=$(now_us)
    docker stop "$name" >/dev/null 2>&1 || REMARK+="${REMARK:+; }docker stop failed"
    STOP_S=$(seconds_since "$start")
  fi
  EXIT_CODE=$(docker inspect --format '{{.State.ExitCode}}' "$name" 2>/dev/null || printf '?')
  docker logs "$name" > "$MH_BENCH_LOGS/$name.log" 2>&1 || true
  docker rm --force "$name" >/dev/null 2>&1 || true
  log "$name: docker stop $STOP_S s, exit code $EXIT_CODE (docker logs: $MH_BENCH_LOGS/$name.log)"
  if [[ $RUN_S == failed || $EXIT_CODE != 0 ]]; then
    BENCH_FAILED=1
    tail -n 20 "$MH_BENCH_LOGS/$name.log" | cut -c1-300 >&2
  fi
  [[ $EXIT_CODE == 0 ]] || EXIT_CODE+=" (MISSED: expected 0)"
  REMARK="docker stop $STOP_S s, exit code $EXIT_CODE, load $(cut -d' ' -f1 /proc/loadavg)${REMARK:+; $REMARK}"
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
  first_and_noop "mh-bench-deploy-$small" 1 "$small" hauser.multi_hauser.deploy
  first_small=$FIRST_S noop_small=$NOOP_S first_cpu_small=$(cpu_total "$FIRST_CPU") noop_cpu_small=$(cpu_total "$NOOP_CPU")
  add_row "multi_hauser deploy" "$small" "$FIRST_S" "$NOOP_S" "$REMARK"
  first_and_noop "mh-bench-deploy-$large" 1 "$large" hauser.multi_hauser.deploy
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
  first_and_noop "mh-bench-naive-$orgs" 1 "$orgs" "$MH_REPO/tests/bench/naive.yml"
  add_row "naive template loop" "$orgs" "$FIRST_S" "$NOOP_S" "$REMARK"
  add_note "(naive: $((2 * orgs)) directories, $((2 * orgs)) templated files, one loop item each)"
  task_table "where the naive play's time goes (profile_tasks, s; tasks over 0.3 s in some run)" \
    "$orgs first=mh-bench-naive-$orgs-first" "$orgs no-op=mh-bench-naive-$orgs-noop"
}

bench_image() {
  local image=$MH_BENCH_IMAGE_NAME dir="$MH_WORK/image" size orgs remark
  mkdir -p "$dir"
  BENCH_IMAGES+=("$image")
  # The image tests' build (tests/image/conftest.py, fixture image), with a fresh download
  # cache: the release is fetched and verified as a first build does.
  timed_playbook image-build - hauser.multi_hauser.build_image \
    -e "multi_hauser_image=$image" -e "multi_hauser_base_image=$MH_SLIM_IMAGE" \
    -e multi_hauser_builder_network=host -e multi_hauser_provider=local \
    -e multi_hauser_local_save_dir=/srv/hauser-data \
    -e "multi_hauser_download_url=$MH_RELEASES_URL/v{{ multi_hauser_version }}" \
    -e "multi_hauser_cache_dir=$dir/cache"
  remark="cpu s ${RUN_CPU%+*} (controller; the builder's not counted), load $RUN_LOAD"
  if [[ $RUN_SECONDS != failed ]]; then
    size=$(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f", $1 / 1e6 }')
    remark="image $size MB, $remark"
  fi
  add_row "image build" - "$RUN_SECONDS" - "$remark${RUN_ERROR:+; $RUN_ERROR}"
  if [[ $RUN_SECONDS != failed ]]; then
    for orgs in "$MH_BENCH_IMAGE_SMALL" "$MH_BENCH_IMAGE_LARGE"; do
      image_run "$orgs"
      add_row "image run to all RUNNING" "$orgs" "$RUN_S" - "$REMARK"
    done
    add_note "(image: seconds of the build, and from docker run until supervisord reports every org's program RUNNING; no no-op runs)"
  else
    add_note "(image: no containers run, the build failed)"
  fi
  task_table "where the image build's time goes (profile_tasks, s; tasks over 0.3 s)" "build=image-build"
  docker image rm --force "$image" >/dev/null 2>&1 || true
}

# key_file_opens KEYFILE TRACE: how often the traced run opened KEYFILE (strace -o TRACE -f).
key_file_opens() {
  grep -F "\"$1\"" "$2" | grep -c -v ENOENT || true
}

# traced_playbook LABEL ARGS...: ansible-playbook ARGS under strace (file opens only), untimed;
# sets TRACE to the trace's path.
traced_playbook() {
  local label=$1
  shift
  TRACE="$MH_BENCH_LOGS/$label.strace"
  (cd "$MH_WORK" && strace -f -qq -e trace=open,openat,openat2 -o "$TRACE" ansible-playbook "$@" \
    > "$MH_BENCH_LOGS/$label.log" 2>&1) || { BENCH_FAILED=1; log "ansible-playbook $label (traced) FAILED"; }
}

median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "failed") }'; }

bench_plan() {
  local case orgs hosts dir index first_s="" first_work="" work
  command -v strace >/dev/null || apt_install strace
  for case in "$MH_BENCH_PLAN_SMALL" "$MH_BENCH_PLAN_LARGE"; do
    orgs=${case%x*} hosts=${case#*x} dir="$MH_WORK/plan-$case"
    mkdir -p "$dir"
    make_keyfile "$orgs" "$dir/keys.csv"
    # Hosts nothing listens for: the plan contacts none (a contact would fail the run).
    { printf 'multi_hauser:\n  hosts:\n'
      for (( index = 1; index <= hosts; index++ )); do
        printf '    vm-%03d: {ansible_host: 127.0.0.1, ansible_port: 9}\n' "$index"
      done; } > "$dir/inventory.yml"
    timed_playbook "plan-$case" - -i "$dir/inventory.yml" -e "multi_hauser_keyfile=$dir/keys.csv" hauser.multi_hauser.plan
    traced_playbook "plan-$case-traced" -i "$dir/inventory.yml" -e "multi_hauser_keyfile=$dir/keys.csv" \
      hauser.multi_hauser.plan
    work=$(( orgs * hosts ))
    add_row "plan playbook, $hosts host(s)" "$orgs" "$RUN_SECONDS" - \
      "cpu s ${RUN_CPU%+*}, key file opened $(key_file_opens "$dir/keys.csv" "$TRACE") time(s), $work org x host scores, load $RUN_LOAD"
    if [[ -z $first_s ]]; then first_s=$RUN_SECONDS first_work=$work; fi
  done
  add_note "$(printf 'ratio of the plan playbook %s/%s: %s seconds for %s times the org x host scores (one assignment per run;' \
    "$MH_BENCH_PLAN_LARGE" "$MH_BENCH_PLAN_SMALL" "$(ratio "$RUN_SECONDS" "$first_s")" "$(( work / first_work ))") one per host per reference would be $(( hosts )) times that)"
}

# noop_rounds ORGS DIR VM: MH_BENCH_NOOP_ROUNDS rounds of the one-task play and the no-op deploy,
# alternating, against the converged VM; sets ONE_S and NOOP_S (medians) and NOOP_MODULES (the
# remote module runs of the last no-op deploy, from its -vvv log).
noop_rounds() {
  local orgs=$1 dir=$2 vm=$3 round ones=() noops=()
  for (( round = 1; round <= MH_BENCH_NOOP_ROUNDS; round++ )); do
    timed_playbook "noop-$orgs-one-task-$round" "$vm" -i "$dir/inventory.yml" "$MH_REPO/tests/bench/one_task.yml"
    ones+=("$RUN_SECONDS")
    timed_playbook "noop-$orgs-deploy-$round" "$vm" -i "$dir/inventory.yml" -e "@$dir/vars.yml" -vvv \
      hauser.multi_hauser.deploy
    noops+=("$RUN_SECONDS")
    [[ $RUN_CHANGED -eq 0 ]] || log "warning: the no-op deploy changed $RUN_CHANGED"
  done
  ONE_S=$(median "${ones[@]}") NOOP_S=$(median "${noops[@]}")
  # each remote module run is one ssh EXEC of a become'd python
  NOOP_MODULES=$(grep -c 'SSH: EXEC .*BECOME-SUCCESS' "$MH_BENCH_LOGS/noop-$orgs-deploy-$MH_BENCH_NOOP_ROUNDS.log" || true)
}

# sandbox_scores VM: systemd-analyze security's exposure of supervisor.service on the deployed VM,
# with the role's sandbox drop-in and without it (moved away for a moment; Debian's unit with the
# role's other drop-ins), as a note of the table.
sandbox_scores() {
  local vm=$1 dropin=/etc/systemd/system/supervisor.service.d/multi-hauser-sandbox.conf with without
  score() {
    docker exec "$vm" systemd-analyze security --no-pager supervisor.service 2>/dev/null \
      | sed -n 's/.*Overall exposure level for supervisor.service: \([0-9.]*\).*/\1/p'
  }
  with=$(score)
  docker exec "$vm" sh -c "mv $dropin /root/sandbox.conf && systemctl daemon-reload"
  without=$(score)
  docker exec "$vm" sh -c "mv /root/sandbox.conf $dropin && systemctl daemon-reload"
  add_note "systemd-analyze security supervisor.service: ${without:-?} without the sandbox drop-in, ${with:-?} with it (target <= 3.0)"
}

bench_noop() {
  local small=$MH_BENCH_NOOP_SMALL large=$MH_BENCH_NOOP_LARGE dir="$MH_WORK/noop" vm one_small noop_small
  command -v strace >/dev/null || apt_install strace
  mkdir -p "$dir"
  start_bench_vm mh-bench-noop "$dir"
  vm=$VM_NAME
  make_keyfile "$small" "$dir/keys.csv"
  write_vars "$dir" "$dir/keys.csv"
  timed_playbook "noop-$small-first" "$vm" -i "$dir/inventory.yml" -e "@$dir/vars.yml" hauser.multi_hauser.deploy
  settle "$vm" "$small"
  sandbox_scores "$vm"
  noop_rounds "$small" "$dir" "$vm"
  one_small=$ONE_S noop_small=$NOOP_S
  add_row "one-task play (ping, become)" 0 - "$ONE_S" "median of $MH_BENCH_NOOP_ROUNDS, side by side with the deploy below"
  add_row "deploy, no-op" "$small" - "$NOOP_S" "median of $MH_BENCH_NOOP_ROUNDS; $NOOP_MODULES remote module runs"
  traced_playbook "noop-$small-traced" -i "$dir/inventory.yml" -e "@$dir/vars.yml" hauser.multi_hauser.deploy
  add_note "a no-op deploy opened the key file $(key_file_opens "$dir/keys.csv" "$TRACE") time(s) (strace)"
  make_keyfile "$large" "$dir/keys.csv"
  timed_playbook "noop-$large-first" "$vm" -i "$dir/inventory.yml" -e "@$dir/vars.yml" hauser.multi_hauser.deploy
  settle "$vm" "$large"
  noop_rounds "$large" "$dir" "$vm"
  add_row "deploy, no-op" "$large" - "$NOOP_S" "median of $MH_BENCH_NOOP_ROUNDS; $NOOP_MODULES remote module runs"
  add_note "$(printf 'ratio no-op deploy %s orgs / one-task play (target <= 3): %s%s   no-op %s/%s orgs (target <= 1.3): %s%s' \
    "$small" "$(ratio "$noop_small" "$one_small")" "$(within "$(ratio "$noop_small" "$one_small")" 3)" \
    "$large" "$small" "$(ratio "$NOOP_S" "$noop_small")" "$(within "$(ratio "$NOOP_S" "$noop_small")" 1.3)")"
  vm_tool stop --state-dir "$dir/vms" >/dev/null
}

# monitor_cpu VM SECONDS: the share of one core (percent) the monitor's process used over SECONDS.
monitor_cpu() {
  docker exec -i "$1" python3 - "$2" <<'PY'
import os, subprocess, sys, time
def pid():
    out = subprocess.run(["supervisorctl", "pid", "multi-hauser-monitor"], capture_output=True, text=True).stdout
    return int(out.strip())
def ticks(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime
seconds = float(sys.argv[1])
process = pid()
before, start = ticks(process), time.time()
time.sleep(seconds)
used = (ticks(process) - before) / os.sysconf("SC_CLK_TCK")
print("%.2f" % (100.0 * used / (time.time() - start)) if pid() == process else "restarted")
PY
}

# waiting_orgs VM: how many orgs the monitor's state file says are waiting (caught up).
waiting_orgs() {
  docker exec "$1" python3 -c '
import json
try:
    states = json.load(open("/var/lib/multi-hauser/.monitor-state.json"))["orgs"]
except (OSError, ValueError):
    states = {}
print(sum(1 for state in states.values() if state["state"] == "waiting"))' 2>/dev/null || printf '0'
}

bench_monitor() {
  local orgs=$MH_BENCH_MONITOR seconds=$MH_BENCH_MONITOR_SECONDS dir="$MH_WORK/monitor" off_s=failed on_s=failed
  local vm start catching=- steady=- waited=0 caught_up=- monitor
  mkdir -p "$dir"
  start_fake_api
  make_keyfile "$orgs" "$dir/keys.csv"
  write_vars "$dir" "$dir/keys.csv"
  # Each org catches up a day in 6 h windows from the fake API, then waits.
  printf 'multi_hauser_config_extra:\n  ApiURL: "%s"\n  StartTime: "%s"\n  ExportDuration: 6h\n  Backoff: 5s\n' \
    "$MH_FAKE_API_URL" "$(date -u -d '-1 day' +%Y-%m-%dT%H:00:00Z)" >> "$dir/vars.yml"
  for monitor in false true; do
    rm -f "$dir/inventory.yml"
    start_bench_vm "mh-bench-monitor-$monitor" "$dir"
    vm=$VM_NAME
    timed_playbook "monitor-$orgs-$monitor" "$vm" -i "$dir/inventory.yml" -e "@$dir/vars.yml" \
      -e "multi_hauser_monitor=$monitor" hauser.multi_hauser.deploy
    if [[ $monitor == false ]]; then
      off_s=$RUN_SECONDS
    else
      on_s=$RUN_SECONDS
      catching=$(monitor_cpu "$vm" "$seconds")
      start=$(date +%s)
      while (( $(waiting_orgs "$vm") < orgs && $(date +%s) - start < 600 )); do sleep 5; done
      waited=$(waiting_orgs "$vm")
      caught_up=$(( $(date +%s) - start + seconds ))
      steady=$(monitor_cpu "$vm" "$seconds")
    fi
    vm_tool stop --state-dir "$dir/vms" >/dev/null
  done
  add_row "deploy until all RUNNING, no monitor" "$orgs" "$off_s" - "first run, fresh VM"
  add_row "deploy until all RUNNING, monitor" "$orgs" "$on_s" - "first run, fresh VM; ratio $(ratio "$on_s" "$off_s")"
  add_note "monitor with $orgs orgs: ${catching}% of one core in the first $seconds s (catching up), ${steady}% over $seconds s once $waited of them wait (${caught_up} s after the deploy, in 5 s steps)"
}

bench_multihost() {
  local hosts=$MH_BENCH_MULTI_HOSTS total=$MH_BENCH_MULTI one
  local first_one noop_one first_cpu_one noop_cpu_one first_ratio noop_ratio
  one=$(( total / hosts ))
  first_and_noop mh-bench-multi-1 1 "$one" hauser.multi_hauser.deploy
  first_one=$FIRST_S noop_one=$NOOP_S first_cpu_one=$(cpu_total "$FIRST_CPU") noop_cpu_one=$(cpu_total "$NOOP_CPU")
  add_row "deploy, 1 host" "$one" "$FIRST_S" "$NOOP_S" "$REMARK"
  first_and_noop "mh-bench-multi-$hosts" "$hosts" "$total" hauser.multi_hauser.deploy
  add_row "deploy, $hosts hosts" "$total" "$FIRST_S" "$NOOP_S" "orgs per host $VM_ORGS; $REMARK"
  first_ratio=$(ratio "$FIRST_S" "$first_one") noop_ratio=$(ratio "$NOOP_S" "$noop_one")
  add_note "$(printf 'ratio %s hosts/1 host, %s orgs each (target: close to 1, the hosts run in parallel)   first %s  no-op %s' \
    "$hosts" "$one" "$first_ratio" "$noop_ratio")"
  add_note "$(printf 'ratio %s hosts/1 host of CPU seconds (controller+VMs; %s times the work)  first %s  no-op %s' "$hosts" "$hosts" \
    "$(ratio "$(cpu_total "$FIRST_CPU")" "$first_cpu_one")" "$(ratio "$(cpu_total "$NOOP_CPU")" "$noop_cpu_one")")"
  task_table "where the deploy's time goes over 1 and $hosts hosts (profile_tasks, s; tasks over 0.3 s in some run)" \
    "1 first=mh-bench-multi-1-first" "1 no-op=mh-bench-multi-1-noop" \
    "$hosts first=mh-bench-multi-$hosts-first" "$hosts no-op=mh-bench-multi-$hosts-noop"
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
mkdir -p "$MH_BENCH_LOGS"

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
# Timing never fails the command; a playbook run that failed does, as does a container of the
# image that did not run every org or did not exit 0.
[[ $BENCH_FAILED -eq 0 ]] || die "a playbook run or a container failed (see the table and the logs)"
