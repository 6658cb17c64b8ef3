#!/usr/bin/env bash
# Target models behind the README's accuracy table (run from the repository root; ./facade builds the Release tool on first use).
set -euo pipefail
facade=./facade
$facade train --task sst2 --out models/sst2-target                 # seed 13 (default)
$facade train --task sst2 --seed 2 --out models/sst2-target-seed2
$facade train --task snli --out models/snli-target
$facade train --task snli --seed 2 --out models/snli-target-seed2
