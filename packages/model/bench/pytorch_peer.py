"""PyTorch peer for the model benchmark: the same GPT-2 style model, trained and sampled the same way.

Run by bench/train-sample.bench.ts with Debian's python3-torch (a baseline only, never a dependency).
Prints one JSON object: {"mode", "torchThreads", "blasThreads", "tokensPerSecond", "seconds", "loss"}.
OpenBLAS reads OPENBLAS_NUM_THREADS at load time, so the caller sets it in the environment.
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.c_attn = torch.nn.Linear(d, 3 * d)
        self.c_proj = torch.nn.Linear(d, d)
        self.ln_2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.c_fc = torch.nn.Linear(d, 4 * d)
        self.mlp_proj = torch.nn.Linear(4 * d, d)

    def forward(self, x, cache=None):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        total = k.shape[2]
        causal = torch.ones(t, total, dtype=torch.bool).tril(diagonal=total - t)
        scores = scores.masked_fill(~causal, float("-inf"))
        y = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt(torch.nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, d)
        self.wpe = torch.nn.Embedding(ctx, d)
        self.h = torch.nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = torch.nn.LayerNorm(d, eps=1e-5)
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, tokens, caches=None, start=0):
        t = tokens.shape[1]
        x = self.wte(tokens) + self.wpe(torch.arange(start, start + t))
        for i, block in enumerate(self.h):
            x = block(x, None if caches is None else caches[i])
        return self.ln_f(x) @ self.wte.weight.T


def train(model, args):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    # Sequences of ctx tokens, as on the linewise side: ctx - 1 next-token predictions each.
    tokens = torch.randint(0, args.vocab, (args.batch, args.ctx), generator=gen)

    def step():
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    seconds = time.perf_counter() - start
    return args.steps * args.batch * args.ctx / seconds, seconds, loss


@torch.no_grad()
def sample(model, args):
    gen = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(0, args.vocab, (args.sample_batch, args.prompt), generator=gen)

    def run():
        caches = [{} for _ in model.h]
        logits = model(prompt, caches, 0)[:, -1]
        for i in range(args.new_tokens):
            probs = logits.softmax(dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen)
            if i + 1 == args.new_tokens:
                break
            logits = model(nxt, caches, args.prompt + i)[:, -1]

    for _ in range(args.warmup):
        run()
    start = time.perf_counter()
    for _ in range(args.steps):
        run()
    seconds = time.perf_counter() - start
    return args.steps * args.sample_batch * args.new_tokens / seconds, seconds, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["train", "sample"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--ctx", type=int, default=256)
    p.add_argument("--d", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--sample-batch", type=int, default=16)
    p.add_argument("--prompt", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=128)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = Gpt(args.vocab, args.ctx, args.d, args.layers, args.heads)
    rate, seconds, loss = (train if args.mode == "train" else sample)(model, args)
    print(json.dumps({
        "mode": args.mode,
        "torch": torch.__version__,
        "torchThreads": args.threads,
        "blasThreads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokensPerSecond": rate,
        "seconds": seconds,
        "loss": loss,
    }))


if __name__ == "__main__":
    main()
