#!/usr/bin/env bash
# Runs a sharded audit on the current kubectl context: the volume, the Indexed Job of shards, then (once every index
# has succeeded) the merge. Put the model at /work/models/model.onnx and the data at /work/data on the volume first,
# and push the image built from deploy/kubernetes/Dockerfile where the cluster can pull it as facade:latest (or edit
# `image:`). Usage: deploy/kubernetes/run.sh [TIMEOUT, default 24h]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl apply -f "$here/pvc.yaml"
kubectl apply -f "$here/audit-job.yaml"
kubectl wait --for=condition=complete job/facade-audit-shards --timeout="${1:-24h}"
kubectl apply -f "$here/merge-job.yaml"
kubectl wait --for=condition=complete job/facade-audit-merge --timeout=1h
kubectl logs job/facade-audit-merge
