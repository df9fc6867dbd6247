#!/usr/bin/env bash
# Reference run for bench/ner-crf.ts: Apache OpenNLP's name finder (default maxent trainer,
# default feature generators) trained and evaluated on the same splits as Sapphire's CRF.
#
# Usage: bench/reference/opennlp_ner.sh [mit_restaurant|wnut17]
# Needs the Debian package `opennlp` (apt-get install -y opennlp). Prints one JSON object.
set -euo pipefail

dataset="${1:-mit_restaurant}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${SAPPHIRE_DATASETS:-$root/../shared/datasets}/ner"

if ! command -v opennlp >/dev/null 2>&1; then
  echo '{"error":"opennlp is not installed (apt-get update && apt-get install -y opennlp)"}'
  exit 2
fi

case "$dataset" in
  mit_restaurant)
    label_first=1
    train=("$data/mit_restaurant/restauranttrain.bio")
    test=("$data/mit_restaurant/restaurantvalid.bio" "$data/mit_restaurant/restauranttest.bio")
    ;;
  wnut17)
    label_first=0
    train=("$data/wnut17/wnut17train.conll")
    test=("$data/wnut17/emerging.test.annotated")
    ;;
  *)
    echo "{\"error\":\"unknown dataset $dataset (use mit_restaurant or wnut17)\"}"
    exit 2
    ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# CoNLL (IOB2) → OpenNLP name-finder format: one sentence per line, `<START:type> … <END>`.
to_opennlp() {
  awk -v lf="$label_first" -F'\t' '
    function close_entity() { if (open) { line = line " <END>"; open = 0 } }
    function flush() {
      close_entity()
      if (n > 0) print substr(line, 2)
      line = ""; n = 0; type = ""
    }
    /^[ \t\r]*$/ { flush(); next }
    {
      if (lf == 1) { tag = $1; tok = $2 } else { tok = $1; tag = $2 }
      gsub(/[ \r]/, "", tok); gsub(/[ \r]/, "", tag)
      if (tok == "") next
      t = (tag == "O") ? "" : substr(tag, 3)
      if (tag == "O" || substr(tag, 1, 2) == "B-" || t != type) close_entity()
      if (tag != "O" && !open) { line = line " <START:" t ">"; open = 1 }
      type = (tag == "O") ? "" : t
      line = line " " tok; n++
    }
    END { flush() }
  ' "$@"
}

to_opennlp "${train[@]}" > "$tmp/train.txt"
to_opennlp "${test[@]}" > "$tmp/test.txt"
# Plain tokenised test sentences for the tagging-throughput run.
sed -E 's/<START:[^>]*> //g; s/ <END>//g' "$tmp/test.txt" > "$tmp/test.tokens"
test_tokens=$(wc -w < "$tmp/test.tokens")
train_tokens=$(sed -E 's/<START:[^>]*> //g; s/ <END>//g' "$tmp/train.txt" | wc -w)

now() { date +%s.%N; }

t0=$(now)
opennlp TokenNameFinderTrainer -model "$tmp/model.bin" -lang en -data "$tmp/train.txt" -encoding UTF-8 \
  > "$tmp/train.log" 2>&1
t1=$(now)
opennlp TokenNameFinderEvaluator -model "$tmp/model.bin" -data "$tmp/test.txt" -encoding UTF-8 \
  > "$tmp/eval.log" 2>&1
opennlp TokenNameFinder "$tmp/model.bin" < "$tmp/test.tokens" > "$tmp/tagged.txt" 2> "$tmp/tag.log"

# Evaluator summary line: "TOTAL: precision:   68.80%;  recall:   67.95%; F1:   68.37%."
total_line=$(grep -m1 'TOTAL:' "$tmp/eval.log" || true)
pct() { echo "$total_line" | grep -oP "$1:\\s+\\K[0-9.]+" | head -1 || true; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
to_ratio() { if [ -n "$1" ]; then calc "$1 / 100"; else echo null; fi; }
precision=$(to_ratio "$(pct precision)")
recall=$(to_ratio "$(pct recall)")
f1=$(to_ratio "$(pct F1)")
# The name finder's own performance monitor: "Runtime: 1.234s" (model loading excluded).
runtime=$(grep -oP 'Runtime: \K[0-9.]+' "$tmp/tag.log" | tail -1 || true)
iterations=$(grep -oP 'Performing \K[0-9]+' "$tmp/train.log" | head -1 || true)
cutoff=$(grep -oP 'cutoff of \K[0-9]+' "$tmp/train.log" | head -1 || true)
train_s=$(calc "$t1 - $t0")
tps=$(if [ -n "$runtime" ]; then calc "$test_tokens / $runtime"; else echo null; fi)
version=$(opennlp 2>&1 | head -1 | grep -oP 'OpenNLP \K[0-9.]*[0-9]' || echo unknown)

cat <<EOF
{"tool":"Apache OpenNLP $version TokenNameFinder (default maxent trainer and feature generators)","iterations":${iterations:-null},"cutoff":${cutoff:-null},"dataset":"$dataset","trainTokens":$train_tokens,"testTokens":$test_tokens,"trainSeconds":$train_s,"precision":$precision,"recall":$recall,"f1":$f1,"taggingTokensPerSecond":$tps,"taggingRuntimeSeconds":${runtime:-null}}
EOF
