"""PyTorch reference for bench/onnx-inference.ts: the same BiLSTM emission network (vocab 20k, embedding 100,
100 units per direction, 9 tags; with and without a 30-filter char-CNN over 25-d chars), inference only, in
eval mode under torch.no_grad(). Prints one line of JSON rows (scores only: no CRF decoding).

Usage: /usr/bin/python3 bench/reference/bilstm_crf_inference.py [--seconds 2]
"""
import json
import sys
import time

import torch
from torch import nn

SECONDS = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 2.0
VOCAB, WORD, HIDDEN, TAGS, CHARS, CHAR_DIM, FILTERS, B, T, C = 20000, 100, 100, 9, 100, 25, 30, 32, 40, 8


class Tagger(nn.Module):
    def __init__(self, chars: bool):
        super().__init__()
        self.words = nn.Embedding(VOCAB + 1, WORD)
        self.chars = chars
        if chars:
            self.char_emb = nn.Embedding(CHARS + 1, CHAR_DIM)
            self.conv = nn.Conv1d(CHAR_DIM, FILTERS, 3, padding=1)
        self.lstm = nn.LSTM(WORD + (FILTERS if chars else 0), HIDDEN, bidirectional=True)
        self.out = nn.Linear(2 * HIDDEN, TAGS)

    def forward(self, words, chars, lengths):
        x = self.words(words)  # [T, B, D]
        if self.chars:
            t, b, c = chars.shape
            ce = self.char_emb(chars.reshape(t * b, c)).transpose(1, 2)
            f = torch.tanh(self.conv(ce)).max(dim=2).values.reshape(t, b, FILTERS)
            x = torch.cat([x, f], dim=2)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h)
        return self.out(h)


def timed(fn):
    """Per-call wall times in ms (sorted) and process CPU ms per call (all threads)."""
    fn()
    times = []
    cpu0 = time.process_time()
    until = time.perf_counter() + SECONDS
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (time.process_time() - cpu0) * 1000 / len(times)
    times.sort()
    return times, cpu_ms


rows = []
for name, chars in (("words + char-CNN", True), ("words only", False)):
    model = Tagger(chars).eval()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(1)
        words = torch.randint(0, VOCAB, (T, B), generator=g)
        chars_t = torch.randint(0, CHARS, (T, B, C), generator=g)
        lengths = torch.full((B,), T, dtype=torch.int64)
        w1, c1, l1 = words[:, :1], chars_t[:, :1], lengths[:1]
        with torch.no_grad():
            bt, cpu_ms = timed(lambda: model(words, chars_t, lengths))
            st, _ = timed(lambda: model(w1, c1, l1))
        rows.append({
            "network": name,
            "engine": f"PyTorch {torch.__version__}, {threads} thread{'s' if threads > 1 else ''}",
            "part": "scores",
            "batchTokensPerSecond": round(B * T / (bt[len(bt) // 2] / 1000)),
            "batchTokensPerCpuSecond": round(B * T / (cpu_ms / 1000)),
            "singleMedianMs": round(st[len(st) // 2], 3),
            "singleP99Ms": round(st[min(len(st) - 1, int(len(st) * 0.99))], 3),
        })
print(json.dumps(rows))
