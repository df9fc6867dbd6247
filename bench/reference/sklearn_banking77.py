#!/usr/bin/python3
"""Reference pipeline for bench/classify-banking77.ts: TF-IDF word 1-2-grams + char_wb 2-5-grams + LinearSVC.

Usage: /usr/bin/python3 bench/reference/sklearn_banking77.py [DATASET_DIR]
Prints one JSON object: train/predict seconds, accuracy, macro-F1, feature count, versions.
"""
import csv
import json
import os
import sys
import time

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "datasets", "classify", "banking77")
    x_train, y_train = read(os.path.join(root, "train.csv"))
    x_test, y_test = read(os.path.join(root, "test.csv"))

    model = make_pipeline(
        FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), lowercase=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True)),
            ]
        ),
        LinearSVC(C=1.0),
    )
    start = time.perf_counter()
    model.fit(x_train, y_train)
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    predicted = model.predict(x_test)
    predict_seconds = time.perf_counter() - start

    single = x_test[:1000]
    timings = []
    for text in single:
        t0 = time.perf_counter()
        model.predict([text])
        timings.append(time.perf_counter() - t0)
    timings.sort()

    union = model.steps[0][1]
    features = sum(len(t.vocabulary_) for _, t in union.transformer_list)
    print(
        json.dumps(
            {
                "tool": "scikit-learn",
                "version": sklearn.__version__,
                "pipeline": "TfidfVectorizer(word 1-2) + TfidfVectorizer(char_wb 2-5) + LinearSVC(C=1)",
                "trainSeconds": train_seconds,
                "predictSeconds": predict_seconds,
                "throughputPerSecond": len(x_test) / predict_seconds,
                "singlePredictMedianMs": timings[len(timings) // 2] * 1000,
                "accuracy": accuracy_score(y_test, predicted),
                "macroF1": f1_score(y_test, predicted, average="macro"),
                "features": features,
            }
        )
    )


if __name__ == "__main__":
    main()
