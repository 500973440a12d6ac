#!/usr/bin/env python3
"""Reference fixtures for @linewise/model: tiny random GPT-2, Llama and Qwen2 checkpoints in the
Hugging Face layout, plus the logits a PyTorch implementation of HF's modeling code gives for them.

Needs only Python 3 and torch (no transformers, no safetensors package): the forward passes below
follow transformers' modeling_gpt2.py / modeling_llama.py / modeling_qwen2.py (eager attention,
no padding, positions 0..T-1) and the safetensors files are written by a small writer in this file.

Usage (from the repository root; Debian's python3-torch lives under /usr/bin/python3):

    /usr/bin/python3 tooling/scripts/model-fixtures.py [--out packages/model/test/fixtures]

Writes one directory per fixture: config.json, model.safetensors (or shards plus
model.safetensors.index.json) and reference.json {seed, tokens, logits, ...}. Deterministic: the same
torch build gives byte-identical files.
"""

import argparse
import json
import math
import os
import shutil
import struct

try:
    import torch
except ImportError:  # pragma: no cover
    raise SystemExit(
        "model-fixtures.py needs PyTorch: run it with a Python that has torch "
        "(on Debian: apt-get install python3-torch, then /usr/bin/python3 tooling/scripts/model-fixtures.py)"
    )

SEED = 20240611
BATCH = 2
SEQ = 12

# ----------------------------------------------------------------------------- safetensors writer

_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def _tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 2-byte payload as int16 (little-endian on x86/arm).
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float16:
        return t.numpy().astype("<f2").tobytes()
    if t.dtype == torch.float32:
        return t.numpy().astype("<f4").tobytes()
    if t.dtype == torch.int64:
        return t.numpy().astype("<i8").tobytes()
    raise ValueError(f"unsupported dtype {t.dtype}")


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in file order. Header padded with spaces to 8 bytes like HF."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, t in tensors:
        data = _tensor_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    return offset


# ----------------------------------------------------------------------------- forward passes


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def causal_mask(t, dtype):
    return torch.tril(torch.ones(t, t, dtype=torch.bool)).view(1, 1, t, t)


def gpt2_forward(cfg, w, ids, prefix="transformer."):
    d, nh = cfg["n_embd"], cfg["n_head"]
    hd = d // nh
    eps = cfg["layer_norm_epsilon"]
    b, t = ids.shape
    g = lambda n: w[prefix + n]  # noqa: E731
    pos = torch.arange(t).unsqueeze(0)
    h = g("wte.weight")[ids] + g("wpe.weight")[pos]
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        x = torch.nn.functional.layer_norm(h, (d,), g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
        # Conv1D: x @ W + b with W [in, out]
        qkv = torch.addmm(g(p + "attn.c_attn.bias"), x.reshape(-1, d), g(p + "attn.c_attn.weight")).view(b, t, 3 * d)
        q, k, v = qkv.split(d, dim=2)
        q, k, v = (z.view(b, t, nh, hd).permute(0, 2, 1, 3) for z in (q, k, v))
        att = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], hd**0.5, dtype=q.dtype)
        mask_value = torch.finfo(att.dtype).min
        att = torch.where(causal_mask(t, att.dtype), att, torch.full([], mask_value, dtype=att.dtype))
        att = torch.softmax(att, dim=-1)
        o = torch.matmul(att, v).permute(0, 2, 1, 3).reshape(b, t, d)
        o = torch.addmm(g(p + "attn.c_proj.bias"), o.reshape(-1, d), g(p + "attn.c_proj.weight")).view(b, t, d)
        h = h + o
        x = torch.nn.functional.layer_norm(h, (d,), g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
        m = torch.addmm(g(p + "mlp.c_fc.bias"), x.reshape(-1, d), g(p + "mlp.c_fc.weight"))
        m = gelu_new(m)
        m = torch.addmm(g(p + "mlp.c_proj.bias"), m, g(p + "mlp.c_proj.weight")).view(b, t, d)
        h = h + m
    h = torch.nn.functional.layer_norm(h, (d,), g("ln_f.weight"), g("ln_f.bias"), eps)
    return torch.matmul(h, g("wte.weight").t())


def rms_norm(x, weight, eps):
    # LlamaRMSNorm / Qwen2RMSNorm: variance in float32, cast back, then weight * x
    dtype = x.dtype
    x = x.to(torch.promote_types(dtype, torch.float32))  # the float64 cross-check stays float64
    var = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(var + eps)
    return weight * x.to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(hd, theta, t, dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    pos = torch.arange(t).float()
    freqs = torch.outer(pos, inv_freq)  # HF: inv_freq @ position_ids in float32
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def repeat_kv(x, n_rep):
    b, nkv, t, hd = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, nkv, n_rep, t, hd).reshape(b, nkv * n_rep, t, hd)


def llama_forward(cfg, w, ids):
    d = cfg["hidden_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", d // nh)
    eps = cfg["rms_norm_eps"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    b, t = ids.shape
    h = w["model.embed_tokens.weight"][ids]
    cos, sin = rope_cos_sin(hd, cfg["rope_theta"], t, h.dtype)
    cos, sin = cos[None, None], sin[None, None]
    lin = torch.nn.functional.linear
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        bias = (lambda n: w[p + f"self_attn.{n}.bias"]) if qkv_bias else (lambda n: None)
        q = lin(x, w[p + "self_attn.q_proj.weight"], bias("q_proj")).view(b, t, nh, hd).transpose(1, 2)
        k = lin(x, w[p + "self_attn.k_proj.weight"], bias("k_proj")).view(b, t, nkv, hd).transpose(1, 2)
        v = lin(x, w[p + "self_attn.v_proj.weight"], bias("v_proj")).view(b, t, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, nh // nkv), repeat_kv(v, nh // nkv)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd)
        zero = torch.zeros([], dtype=att.dtype)
        att = att + torch.where(causal_mask(t, att.dtype), zero, torch.full([], torch.finfo(att.dtype).min, dtype=att.dtype))
        att = torch.softmax(att, dim=-1, dtype=torch.promote_types(att.dtype, torch.float32)).to(q.dtype)
        o = torch.matmul(att, v).transpose(1, 2).reshape(b, t, nh * hd)
        h = h + lin(o, w[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        m = torch.nn.functional.silu(lin(x, w[p + "mlp.gate_proj.weight"])) * lin(x, w[p + "mlp.up_proj.weight"])
        h = h + lin(m, w[p + "mlp.down_proj.weight"])
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return lin(h, head)


# ----------------------------------------------------------------------------- random weights


def rnd(gen, *shape, std=0.2, mean=0.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * std + mean).contiguous()


def gpt2_weights(cfg, gen):
    d, v, p, n = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    w = {"transformer.wte.weight": rnd(gen, v, d, std=0.5), "transformer.wpe.weight": rnd(gen, p, d, std=0.2)}
    for i in range(n):
        q = f"transformer.h.{i}."
        w[q + "ln_1.weight"] = rnd(gen, d, std=0.1, mean=1.0)
        w[q + "ln_1.bias"] = rnd(gen, d, std=0.1)
        w[q + "attn.c_attn.weight"] = rnd(gen, d, 3 * d, std=0.25)
        w[q + "attn.c_attn.bias"] = rnd(gen, 3 * d, std=0.1)
        w[q + "attn.c_proj.weight"] = rnd(gen, d, d, std=0.15)
        w[q + "attn.c_proj.bias"] = rnd(gen, d, std=0.1)
        w[q + "ln_2.weight"] = rnd(gen, d, std=0.1, mean=1.0)
        w[q + "ln_2.bias"] = rnd(gen, d, std=0.1)
        w[q + "mlp.c_fc.weight"] = rnd(gen, d, 4 * d, std=0.2)
        w[q + "mlp.c_fc.bias"] = rnd(gen, 4 * d, std=0.1)
        w[q + "mlp.c_proj.weight"] = rnd(gen, 4 * d, d, std=0.1)
        w[q + "mlp.c_proj.bias"] = rnd(gen, d, std=0.1)
    w["transformer.ln_f.weight"] = rnd(gen, d, std=0.1, mean=1.0)
    w["transformer.ln_f.bias"] = rnd(gen, d, std=0.1)
    return w


def llama_weights(cfg, gen):
    d, v, n, inter = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", d // nh)
    qwen = cfg["model_type"] == "qwen2"
    w = {"model.embed_tokens.weight": rnd(gen, v, d, std=0.5)}
    for i in range(n):
        q = f"model.layers.{i}."
        w[q + "input_layernorm.weight"] = rnd(gen, d, std=0.1, mean=1.0)
        w[q + "self_attn.q_proj.weight"] = rnd(gen, nh * hd, d, std=0.25)
        w[q + "self_attn.k_proj.weight"] = rnd(gen, nkv * hd, d, std=0.25)
        w[q + "self_attn.v_proj.weight"] = rnd(gen, nkv * hd, d, std=0.25)
        if qwen:
            w[q + "self_attn.q_proj.bias"] = rnd(gen, nh * hd, std=0.2)
            w[q + "self_attn.k_proj.bias"] = rnd(gen, nkv * hd, std=0.2)
            w[q + "self_attn.v_proj.bias"] = rnd(gen, nkv * hd, std=0.2)
        w[q + "self_attn.o_proj.weight"] = rnd(gen, d, nh * hd, std=0.15)
        w[q + "post_attention_layernorm.weight"] = rnd(gen, d, std=0.1, mean=1.0)
        w[q + "mlp.gate_proj.weight"] = rnd(gen, inter, d, std=0.25)
        w[q + "mlp.up_proj.weight"] = rnd(gen, inter, d, std=0.25)
        w[q + "mlp.down_proj.weight"] = rnd(gen, d, inter, std=0.15)
    w["model.norm.weight"] = rnd(gen, d, std=0.1, mean=1.0)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rnd(gen, v, d, std=0.3)
    return w


# ----------------------------------------------------------------------------- configs


def gpt2_config(**over):
    cfg = {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": 96,
        "embd_pdrop": 0.1,
        "eos_token_id": 96,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": 32,
        "n_embd": 32,
        "n_head": 4,
        "n_inner": None,
        "n_layer": 2,
        "n_positions": 32,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "use_cache": True,
        "vocab_size": 97,
    }
    cfg.update(over)
    return cfg


def llama_config(**over):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "use_cache": True,
        "vocab_size": 97,
    }
    cfg.update(over)
    return cfg


def qwen2_config(**over):
    cfg = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 95,
        "eos_token_id": 96,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
        "max_window_layers": 2,
        "model_type": "qwen2",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 128,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": 97,
    }
    cfg.update(over)
    return cfg


# ----------------------------------------------------------------------------- fixtures


def round_sig(x):
    return float(f"{x:.7g}")


def make_fixture(out, name, cfg, seed, *, dtype=torch.float32, shards=1, gpt2_legacy=False, inv_freq=False, note=""):
    gen = torch.Generator().manual_seed(seed)
    family = cfg["model_type"]
    w = gpt2_weights(cfg, gen) if family == "gpt2" else llama_weights(cfg, gen)
    # Store in `dtype`; the reference runs on exactly the stored values, upcast to float32.
    w = {k: v.to(dtype) for k, v in w.items()}
    wf = {k: v.to(torch.float32) for k, v in w.items()}
    ids = torch.randint(0, cfg["vocab_size"], (BATCH, SEQ), generator=gen, dtype=torch.int64)

    with torch.no_grad():
        if family == "gpt2":
            logits = gpt2_forward(cfg, wf, ids)
            logits64 = gpt2_forward(cfg, {k: v.double() for k, v in wf.items()}, ids)
        else:
            logits = llama_forward(cfg, wf, ids)
            logits64 = llama_forward(cfg, {k: v.double() for k, v in wf.items()}, ids)
    f32_vs_f64 = (logits.double() - logits64).abs().max().item()

    tensors = list(w.items())
    if family == "gpt2" and gpt2_legacy:
        # Old GPT-2 checkpoints: no `transformer.` prefix, causal-mask buffers saved as tensors.
        n = cfg["n_positions"]
        legacy = []
        for k, v in tensors:
            k = k[len("transformer.") :]
            legacy.append((k, v))
            if k.endswith("attn.c_attn.weight"):
                base = k[: -len("c_attn.weight")]
                legacy.append((base + "bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n).to(dtype)))
                legacy.append((base + "masked_bias", torch.tensor(-1e4).to(dtype)))
        tensors = legacy
    if inv_freq:
        hd = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        with_buffers = []
        for k, v in tensors:
            with_buffers.append((k, v))
            if k.endswith("self_attn.o_proj.weight"):
                with_buffers.append((k.replace("o_proj.weight", "rotary_emb.inv_freq"), inv.to(dtype)))
        tensors = with_buffers

    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cfg = dict(cfg, torch_dtype={torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}[dtype])
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    meta = {"format": "pt"}
    files = []
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors, meta)
        files.append("model.safetensors")
    else:
        per = math.ceil(len(tensors) / shards)
        weight_map = {}
        total = 0
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = tensors[s * per : (s + 1) * per]
            total += write_safetensors(os.path.join(d, fname), part, meta)
            weight_map.update({k: fname for k, _ in part})
            files.append(fname)
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
            f.write("\n")
        files.append("model.safetensors.index.json")

    ref = {
        "name": name,
        "note": note,
        "seed": seed,
        "torch": torch.__version__,
        "dtype": cfg["torch_dtype"],
        "tokens": ids.tolist(),
        "logitsShape": list(logits.shape),
        "float32VsFloat64MaxAbs": round_sig(f32_vs_f64),
        "logits": [[[round_sig(x) for x in row] for row in seq] for seq in logits.tolist()],
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
    print(f"{name:22s} {size / 1024:7.1f} KiB  files={files}  |logits|max={logits.abs().max().item():.3f}  f32-f64={f32_vs_f64:.2e}")
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "packages", "model", "test", "fixtures"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)

    total = 0
    total += make_fixture(out, "gpt2-tiny", gpt2_config(), SEED + 1, note="GPT-2, transformer. prefix, tied head")
    total += make_fixture(
        out,
        "gpt2-legacy",
        gpt2_config(n_layer=1),
        SEED + 2,
        gpt2_legacy=True,
        note="GPT-2 without the transformer. prefix, with attn.bias/attn.masked_bias buffers",
    )
    total += make_fixture(
        out, "gpt2-tiny-f16", gpt2_config(n_layer=1), SEED + 3, dtype=torch.float16, note="GPT-2 stored as F16"
    )
    total += make_fixture(
        out, "llama-tiny", llama_config(), SEED + 4, inv_freq=True, note="Llama, GQA 4/2, untied, rotary inv_freq"
    )
    total += make_fixture(
        out,
        "llama-tiny-sharded",
        llama_config(num_key_value_heads=1, rope_theta=500000.0),
        SEED + 5,
        shards=2,
        note="Llama, MQA 4/1, two shards with model.safetensors.index.json",
    )
    total += make_fixture(out, "qwen2-tiny", qwen2_config(), SEED + 6, note="Qwen2, q/k/v biases, GQA 4/2, tied")
    total += make_fixture(
        out, "qwen2-tiny-bf16", qwen2_config(num_hidden_layers=1), SEED + 7, dtype=torch.bfloat16, note="Qwen2 as BF16"
    )
    print(f"total {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
