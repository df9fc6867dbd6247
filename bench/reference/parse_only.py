"""Reference for bench/import-speed.ts: how fast plain Python parses the same files (parse only).

Prints one JSON object: {"file": ..., "seconds": median seconds, "items": n}.
Usage: python3 bench/reference/parse_only.py <conll|jsonl|csv> <path> [repeats]
"""
import csv
import json
import statistics
import sys
import time


def parse_conll(path):
    sentences, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            current.append(line.split("\t") if "\t" in line else line.split(" "))
    if current:
        sentences.append(current)
    return len(sentences)


def parse_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip() and json.loads(line))


def parse_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def main():
    kind, path = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    parse = {"conll": parse_conll, "jsonl": parse_jsonl, "csv": parse_csv}[kind]
    times, items = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        items = parse(path)
        times.append(time.perf_counter() - start)
    print(json.dumps({"file": path, "seconds": statistics.median(times), "items": items}))


main()
