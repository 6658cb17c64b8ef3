#!/usr/bin/env bash
# The test command: builds and runs every test project (`dotnet test FacadeOnnx.sln`). One test renders the HTML audit
# report in headless Chromium, so Debian's chromium is installed first when it is missing and this runs as root.
# Every category runs, `Slurm` included: that test brings up a one-node Slurm on localhost (deploy/slurm/cluster.sh
# installs slurm-wlm and munge when missing; about 2 minutes the first time, then about 40 s) and is skipped with its
# reason when not root.
set -uo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (for the HTML report test)..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium" >&2
  else
    echo "warning: chromium is not installed (sudo apt-get install chromium); the HTML rendering test will fail" >&2
  fi
fi
exec dotnet test FacadeOnnx.sln "$@"
