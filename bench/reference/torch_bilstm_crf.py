#!/usr/bin/python3
"""PyTorch reference for bench/neural-engine.ts: the same BiLSTM-CRF tagger, the same sizes.

Embedding(20000, 100) -> BiLSTM (100 units per direction) -> Linear(200, 9) -> linear-chain CRF
(negative log-likelihood by the forward algorithm, Viterbi decoding), batch 32 x 40 tokens, Adam
lr 1e-3, random token and tag ids (seeded). The embedding gradient is PyTorch's default (dense).

Usage: /usr/bin/python3 bench/reference/torch_bilstm_crf.py [--steps 10] [--threads 0]
Prints one JSON line: torch version, threads, the BLAS library mapped into the process (Debian
picks it through libblas.so.3; bench/neural-engine.ts sets LD_LIBRARY_PATH to choose), training
tokens/s, single-sentence latency and batched inference tokens/s.
"""
import argparse
import json
import time

import torch
from torch import nn

VOCAB, EMB, HIDDEN, TAGS = 20_000, 100, 100, 9
BATCH, LEN = 32, 40


class Crf(nn.Module):
    """Linear-chain CRF with start / end / transition scores."""

    def __init__(self, k):
        super().__init__()
        self.trans = nn.Parameter(torch.randn(k, k) * 0.1)
        self.start = nn.Parameter(torch.randn(k) * 0.1)
        self.end = nn.Parameter(torch.randn(k) * 0.1)

    def nll(self, em, tags):
        # em: [T, B, K], tags: [T, B] (all sentences full length, as in the TypeScript bench)
        T, B, _ = em.shape
        ar = torch.arange(B)
        gold = self.start[tags[0]] + em[0, ar, tags[0]]
        for t in range(1, T):
            gold = gold + self.trans[tags[t - 1], tags[t]] + em[t, ar, tags[t]]
        gold = gold + self.end[tags[-1]]
        alpha = self.start + em[0]
        for t in range(1, T):
            alpha = torch.logsumexp(alpha.unsqueeze(2) + self.trans + em[t].unsqueeze(1), dim=1)
        z = torch.logsumexp(alpha + self.end, dim=1)
        return (z - gold).sum()

    def decode(self, em):
        T = em.shape[0]
        score = self.start + em[0]
        back = []
        for t in range(1, T):
            s = score.unsqueeze(2) + self.trans
            score, idx = s.max(dim=1)
            score = score + em[t]
            back.append(idx)
        best = (score + self.end).argmax(dim=1)
        path = [best]
        for idx in reversed(back):
            best = idx.gather(1, best.unsqueeze(1)).squeeze(1)
            path.append(best)
        return torch.stack(path[::-1])


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMB)
        self.lstm = nn.LSTM(EMB, HIDDEN, bidirectional=True)
        self.out = nn.Linear(2 * HIDDEN, TAGS)
        self.crf = Crf(TAGS)

    def emissions(self, ids):
        h, _ = self.lstm(self.emb(ids))
        return self.out(h)


def blas_library():
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1] for line in maps if 'blas' in line or 'lapack' in line}
    return sorted(libs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(7)
    model = Tagger()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [(torch.randint(VOCAB, (LEN, BATCH)), torch.randint(TAGS, (LEN, BATCH))) for _ in range(4)]

    def step(ids, tags):
        opt.zero_grad()
        loss = model.crf.nll(model.emissions(ids), tags)
        loss.backward()
        opt.step()

    for w in range(3):
        step(*batches[w % 4])
    t0 = time.perf_counter()
    for s in range(a.steps):
        step(*batches[s % 4])
    train_sec = time.perf_counter() - t0

    def timed(fn, min_sec=1.0):
        fn()
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_sec:
            fn()
            reps += 1
        return (time.perf_counter() - t0) / reps

    with torch.no_grad():
        one = batches[0][0][:, :1]
        latency = timed(lambda: model.crf.decode(model.emissions(one)))
        batch = timed(lambda: model.crf.decode(model.emissions(batches[0][0])))
    print(json.dumps({
        'tool': 'pytorch',
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': blas_library(),
        'steps': a.steps,
        'trainTokensPerSec': round(a.steps * BATCH * LEN / train_sec),
        'sentenceLatencyMs': round(latency * 1000, 3),
        'inferenceTokensPerSec': round(BATCH * LEN / batch),
    }))


if __name__ == '__main__':
    main()
