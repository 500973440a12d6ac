/** The benchmark model and workload, shared by our side and the PyTorch peer's command line. */
export const BENCH_MODEL = {
  /** GPT-2 style, about 3.4M parameters. */
  vocab: 512,
  ctx: 256,
  d: 256,
  layers: 4,
  heads: 4,
  /** Training batch: 8 sequences of 256 tokens. */
  batch: 8,
  /** Sampling: 16 sequences, an 8-token prompt each, 128 new tokens. */
  sampleBatch: 16,
  prompt: 8,
  newTokens: 128,
  warmup: 2,
} as const;
