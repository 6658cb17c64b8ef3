#!/usr/bin/env bash
# A single-node Slurm cluster on localhost from Debian's packages, for trying sharded audits (and for the Slurm test).
#
#   deploy/slurm/cluster.sh up [DIR]     install slurm-wlm and munge if missing, write the config to DIR (default: a new
#                                         temporary folder), start munged, slurmctld and slurmd; prints DIR last
#   deploy/slurm/cluster.sh down DIR     cancel the jobs, stop the three daemons by their pid files, remove DIR
#
# Then: export SLURM_CONF=DIR/slurm.conf (or `. DIR/env.sh`) and use sbatch/squeue/sinfo as usual.
# Needs root (apt-get, and slurmd runs jobs as their users). Everything lives in DIR: the munge key (generated there),
# sockets, pid files, logs, state. Non-default ports (slurmctld 16817, slurmd 16818; override with
# FACADE_SLURMCTLD_PORT / FACADE_SLURMD_PORT), so a real Slurm on the machine is not disturbed. No cgroups:
# ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, SelectType=select/cons_tres with CR_CPU, one node
# "localhost" with as many CPUs as FACADE_SLURM_CPUS (default 2).
set -euo pipefail

usage() { sed -n '2,13p' "$0" >&2; exit 64; }
action=${1:-}; [ -n "$action" ] || usage

stop_pid() {   # stop_pid FILE NAME: SIGTERM the pid in FILE, SIGKILL after 10 s
  local file=$1 name=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "cluster.sh: $name ($pid) did not stop; killing it" >&2; kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

case "$action" in
up)
  if [ "$(id -u)" != 0 ]; then echo "cluster.sh: needs root (installs Debian packages, runs slurmd)" >&2; exit 77; fi
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || { echo "cluster.sh: slurm-wlm and munge are missing and there is no apt-get" >&2; exit 77; }
    echo "cluster.sh: installing slurm-wlm and munge..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null) \
      || { echo "cluster.sh: apt-get install slurm-wlm munge failed" >&2; exit 77; }
  fi
  dir=${2:-$(mktemp -d /tmp/facade-slurm.XXXXXX)}
  dir=$(cd "$(mkdir -p "$dir" && echo "$dir")" && pwd)
  chmod 700 "$dir"
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  ctld_port=${FACADE_SLURMCTLD_PORT:-16817}
  slurmd_port=${FACADE_SLURMD_PORT:-16818}
  cpus=${FACADE_SLURM_CPUS:-2}

  # munge: a fresh key in DIR, its own socket, pid, seed and log.
  [ -s "$dir/munge/munge.key" ] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$dir/munge/munge.key"; }
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
         --seed-file="$dir/munge/munged.seed" --log-file="$dir/log/munged.log"

  cat > "$dir/slurm.conf" <<CONF
# Written by deploy/slurm/cluster.sh: a one-node cluster on localhost.
ClusterName=facade
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  echo "export SLURM_CONF=$dir/slurm.conf" > "$dir/env.sh"
  export SLURM_CONF="$dir/slurm.conf"

  slurmctld -c     # -c: a clean state (no jobs from an earlier cluster in DIR)
  slurmd -N localhost
  for _ in $(seq 120); do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    case "$state" in idle*|mix*|alloc*) break ;; esac
    sleep 0.5
  done
  if ! sinfo -h -n localhost -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
    echo "cluster.sh: the node did not come up (state '${state:-none}'); logs in $dir/log:" >&2
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    exit 1
  fi
  echo "cluster.sh: Slurm is up ($(sinfo -h -o '%P %D %t %c' | head -1) CPUs; slurmctld :$ctld_port, slurmd :$slurmd_port); export SLURM_CONF=$dir/slurm.conf" >&2
  echo "$dir"
  ;;
down)
  dir=${2:?usage: cluster.sh down DIR}
  [ -f "$dir/slurm.conf" ] || { echo "cluster.sh: $dir holds no cluster (no slurm.conf)" >&2; exit 1; }
  export SLURM_CONF="$dir/slurm.conf"
  scancel --full --quiet --user=root 2>/dev/null || true
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  stop_pid "$dir/munge/munged.pid" munged
  rm -rf "$dir"
  echo "cluster.sh: stopped and removed $dir" >&2
  ;;
*) usage ;;
esac
