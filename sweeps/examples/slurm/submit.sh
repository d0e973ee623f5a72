#!/bin/bash
# Queues an rltuner sweep on Slurm: a job array with one shard per task (sweep-array.sbatch), then the job
# that collects it once every task has succeeded (sweep-collect.sbatch, --dependency=afterok).
#   bash submit.sh <plan.json> <sweep folder on a shared file system> [<array: 1-4 (default), 0-7, 1-15:2, ...>]
# Watch it with `rltuner sweep --status <sweep folder>`; the table lands in <sweep folder>/results.md.
set -euo pipefail

usage="usage: bash submit.sh <plan.json> <sweep folder on a shared file system> [<array, e.g. 1-4>]"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
plan=$(realpath "${1:?$usage}")
sweep=$(realpath -m "${2:?$usage}")
array=${3:-1-4}

# --parsable prints "<job id>" or "<job id>;<cluster>".
array_job=$(sbatch --parsable --array="$array" "$here/sweep-array.sbatch" "$plan" "$sweep")
array_job=${array_job%%;*}
collect_job=$(sbatch --parsable --dependency="afterok:$array_job" "$here/sweep-collect.sbatch" "$sweep")
collect_job=${collect_job%%;*}

echo "shards: job array $array_job (--array=$array); collect: job $collect_job, once every shard has succeeded"
echo "progress: rltuner sweep --status $sweep"
