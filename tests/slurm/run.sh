#!/usr/bin/env bash
# The real-Slurm test of `disc slurm` (issue 9): starts munge, slurmctld and slurmd on this machine with
# a private single-node configuration, submits the job array of a tiny study, waits for it, checks every
# run directory, submits the same script again (every job must be skipped: requeue/resubmit safety),
# and stops the daemons, also when anything fails (trap).
#
# Usage: tests/slurm/run.sh PATH/TO/disc
# Installs slurm-wlm and munge with apt-get when they are missing (Debian). Needs root (the daemons run
# as root with SlurmUser=root). Takes about a minute once the packages are there.
set -euo pipefail

DISC="$(readlink -f "${1:?usage: tests/slurm/run.sh PATH/TO/disc}")"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STUDY="$REPO/tests/fixtures/study/tiny.dis"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null; }
fi

WORK="$(mktemp -d /tmp/disc-slurm-test.XXXXXX)"
PIDS=()
cleanup() {
    local status=$?
    # Stop what we started, by pid, newest first; then show the daemons' logs if the test failed.
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
        kill "${PIDS[$i]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if (( status != 0 )); then
        for log in "$WORK"/*.log "$WORK"/runs/slurm/*.out; do
            [[ -f "$log" ]] && { echo "---- $log"; tail -n 40 "$log"; }
        done
        echo "slurm test FAILED (work directory kept: $WORK)"
    else
        rm -rf "$WORK"
    fi
    exit $status
}
trap cleanup EXIT INT TERM

# Ports away from the defaults, so a system Slurm on this machine is left alone.
CTLD_PORT=16817
SLURMD_PORT=16818
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEMORY_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/munge"
chmod 700 "$WORK/munge"

echo "== munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
munged --foreground --force \
    --key-file="$WORK/munge/munge.key" \
    --socket="$WORK/munge/munge.socket" \
    --pid-file="$WORK/munge/munged.pid" \
    --seed-file="$WORK/munge/munged.seed" \
    --log-file="$WORK/munged.log" >"$WORK/munged.out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -S "$WORK/munge/munge.socket" ]] && break; sleep 0.1; done
munge --socket="$WORK/munge/munge.socket" -n | unmunge --socket="$WORK/munge/munge.socket" >/dev/null

cat > "$WORK/slurm.conf" <<EOF
ClusterName=disctest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$WORK/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"

echo "== slurmctld and slurmd ($HOST, $CPUS CPUs)"
slurmctld -D -i -f "$SLURM_CONF" >"$WORK/slurmctld.out.log" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/slurmd.out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    state="$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)"
    [[ "$state" == idle* ]] && break
    sleep 0.2
done
sinfo

echo "== disc slurm --submit"
RUNS="$WORK/runs"
submitted="$("$DISC" slurm "$STUDY" --out "$RUNS" --jobs-per-task 2 --array-limit 2 \
    --device cpu --sbatch=--partition=debug --sbatch=--cpus-per-task=1 --submit)"
echo "$submitted"
JOB_ID="$(echo "$submitted" | awk '/Submitted batch job/ {print $4}')"
[[ -n "$JOB_ID" ]] || { echo "no job id in sbatch's answer"; exit 1; }

wait_for() {
    local id=$1
    for _ in $(seq 600); do
        [[ -z "$(squeue -h -j "$id" 2>/dev/null)" ]] && return 0
        sleep 0.5
    done
    echo "job $id still queued or running after 5 minutes"; squeue; return 1
}
wait_for "$JOB_ID"

echo "== checking the run directories"
JOBS=4
finished=$(find "$RUNS" -mindepth 2 -maxdepth 2 -name results.json | wc -l)
metrics=$(find "$RUNS" -mindepth 2 -maxdepth 2 -name metrics.json | wc -l)
logs=$(find "$RUNS/slurm" -name 'tiny_*.out' | wc -l)
echo "finished runs: $finished of $JOBS, metrics files: $metrics, task logs: $logs"
[[ "$finished" == "$JOBS" && "$metrics" == "$JOBS" && "$logs" == 2 ]]
[[ -f "$RUNS/slurm/tiny.sbatch" && -f "$RUNS/slurm/tiny.plan.ron" && -f "$RUNS/plan.ron" ]]
"$DISC" results "$RUNS" --format csv | tee "$WORK/results.csv"
[[ $(grep -c ',done,' "$WORK/results.csv") == "$JOBS" ]]

echo "== resubmitting: every job is already finished and must be skipped"
resubmitted="$(sbatch "$RUNS/slurm/tiny.sbatch")"
JOB_ID2="$(echo "$resubmitted" | awk '/Submitted batch job/ {print $4}')"
wait_for "$JOB_ID2"
skipped=$(cat "$RUNS"/slurm/tiny_"$JOB_ID2"_*.out | grep -c "already finished, skipped" || true)
echo "skipped on resubmission: $skipped of $JOBS"
[[ "$skipped" == "$JOBS" ]]
sacct_state="$(scontrol show job "$JOB_ID2" 2>/dev/null | grep -o 'JobState=[A-Z]*' | sort -u | tr '\n' ' ' || true)"
echo "second array: ${sacct_state:-gone from the controller}"

echo "slurm test passed: $JOBS jobs trained by a job array of 2 tasks, none retrained on resubmission"
