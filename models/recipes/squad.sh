#!/usr/bin/env bash
# SQuAD v1.1 (docs/method.md 2.2, 3, 5.2): the span target, the QA Facade and the measurements behind the README's
# SQuAD section. Run from the repository root; ./facade builds the Release tool on first use.
set -euo pipefail
facade=./facade

# Span target: MiniLM with a span head on the dev-a windows that hold the answer (4,961 questions, 4,984 windows),
# AdamW 1e-4, batch 16, 2 epochs, 10% warm-up then linear decay; EM and F1 on all of dev-b after each epoch.
$facade train --task squad --epochs 2 --batch 16 --lr 1e-4 --seed 13 --out models/squad-target
$facade train --task squad --epochs 2 --batch 16 --lr 1e-4 --seed 14 --out models/squad-target-seed14

# The whole QA pipeline against that target: QA Facade (first question token; Adam 5e-4 constant, batch 8, 600 steps,
# chosen every 100 steps on the merged model over the first windows of 300 dev-b questions, output scaled to keep 98%
# of the merged spans), merge, span gradient models, and the engine's audit of the first 1,000 dev-b questions.
$facade reproduce --task squad --target-model models/squad-target --out runs/squad
# The same with the question's stop words as the Facade's target.
$facade reproduce --task squad --target stop-words --target-model models/squad-target --out runs/squad-stop

# The scaling merge (docs/method.md 7.7): a --scale-output Facade whose standardized output s multiplies the target's
# logits by exp(s), so every span is the target's by construction. Quick: reuses runs/squad-quick/target (or trains it)
# and writes facade-scale, merged-scale, merged-scale.onnx, audit-scale and summary-scale.md beside the additive run.
$facade reproduce --task squad --quick --combine scale
$facade audit --task squad --model runs/squad-quick/merged-scale.onnx --compare runs/squad-quick/target.onnx \
  --limit 500 --no-attacks --no-faithfulness --out audits/squad-scale-500
# The question's stop words as the scaling Facade's target (its own folder: a reproduction reuses the Facade it finds).
$facade reproduce --task squad --quick --combine scale --target stop-words --target-model runs/squad-quick/target \
  --out runs/squad-quick-stop
# Against the full target.
$facade reproduce --task squad --combine scale --target-model models/squad-target --out runs/squad
