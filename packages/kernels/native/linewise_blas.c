/*
 * linewise_blas: OpenBLAS sgemm and fused training kernels (AVX2 where the CPU has it) on the tfjs wasm
 * heap, zero-copy.
 *
 * The wasm backend keeps every tensor in one WebAssembly.Memory; JavaScript passes that memory's
 * ArrayBuffer and byte offsets into it, so matrices are read and written in place. The buffer must be
 * taken fresh for every call: wasm memory growth detaches the old one.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <cblas.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SGEMM_ARGC 17

static napi_value throw_range(napi_env env, const char* message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* Reads a non-negative integer no larger than max; throws a RangeError naming the argument otherwise. */
static bool get_count(napi_env env, napi_value value, const char* name, int64_t max, int64_t* out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok || !(number >= 0) || number > (double)max ||
      number != (double)(int64_t)number) {
    char message[96];
    snprintf(message, sizeof message, "sgemm: %s must be an integer in [0, %lld]", name, (long long)max);
    throw_range(env, message);
    return false;
  }
  *out = (int64_t)number;
  return true;
}

/*
 * Checks that `batch` matrices of rows x cols floats, ld apart within a row-major matrix and stride apart
 * between matrices, starting at byte offset, lie inside the buffer.
 */
static bool check_extent(napi_env env, const char* name, int64_t offset, int64_t rows, int64_t cols,
                         int64_t ld, int64_t stride, int64_t batch, size_t byte_length) {
  char message[128];
  if (offset % (int64_t)sizeof(float) != 0) {
    snprintf(message, sizeof message, "sgemm: offset of %s must be a multiple of 4", name);
    throw_range(env, message);
    return false;
  }
  if (ld < (cols > 1 ? cols : 1)) {
    snprintf(message, sizeof message, "sgemm: leading dimension of %s must be at least max(1, %lld)", name,
             (long long)cols);
    throw_range(env, message);
    return false;
  }
  if (rows == 0 || cols == 0 || batch == 0) return true;
  /* Every factor is below 2^31, so this cannot overflow 64 bits. */
  int64_t last = (batch - 1) * stride + (rows - 1) * ld + cols;
  if (offset + last * (int64_t)sizeof(float) > (int64_t)byte_length) {
    snprintf(message, sizeof message, "sgemm: %s extends past the end of the buffer", name);
    throw_range(env, message);
    return false;
  }
  return true;
}

/*
 * sgemm(buffer, transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
 * For i < batch: C_i = op(A_i) * op(B_i) + beta * C_i, row-major, where X_i starts at byte offset
 * x + 4 * i * strideX of buffer. A stride of 0 broadcasts one matrix over the batch.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = SGEMM_ARGC;
  napi_value argv[SGEMM_ARGC];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != SGEMM_ARGC) return throw_range(env, "sgemm: expected 17 arguments");

  void* data;
  size_t byte_length;
  bool is_buffer = false;
  napi_is_arraybuffer(env, argv[0], &is_buffer);
  if (!is_buffer || napi_get_arraybuffer_info(env, argv[0], &data, &byte_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "sgemm: buffer must be an ArrayBuffer");
    return NULL;
  }
  bool trans_a, trans_b;
  if (napi_get_value_bool(env, argv[1], &trans_a) != napi_ok ||
      napi_get_value_bool(env, argv[2], &trans_b) != napi_ok) {
    napi_throw_type_error(env, NULL, "sgemm: transA and transB must be booleans");
    return NULL;
  }
  double beta;
  if (napi_get_value_double(env, argv[12], &beta) != napi_ok) {
    napi_throw_type_error(env, NULL, "sgemm: beta must be a number");
    return NULL;
  }

  /* wasm memory is at most 4 GiB, so 32-bit sizes always suffice (and fit any blasint). */
  const int64_t dim_max = INT_MAX;
  const int64_t byte_max = (int64_t)byte_length;
  int64_t m, n, k, a, lda, stride_a, b, ldb, stride_b, c, ldc, stride_c, batch;
  if (!get_count(env, argv[3], "m", dim_max, &m) || !get_count(env, argv[4], "n", dim_max, &n) ||
      !get_count(env, argv[5], "k", dim_max, &k) || !get_count(env, argv[6], "a", byte_max, &a) ||
      !get_count(env, argv[7], "lda", dim_max, &lda) || !get_count(env, argv[8], "strideA", dim_max, &stride_a) ||
      !get_count(env, argv[9], "b", byte_max, &b) || !get_count(env, argv[10], "ldb", dim_max, &ldb) ||
      !get_count(env, argv[11], "strideB", dim_max, &stride_b) || !get_count(env, argv[13], "c", byte_max, &c) ||
      !get_count(env, argv[14], "ldc", dim_max, &ldc) || !get_count(env, argv[15], "strideC", dim_max, &stride_c) ||
      !get_count(env, argv[16], "batch", dim_max, &batch)) {
    return NULL;
  }
  /* Stored shapes: A is m x k (k x m transposed), B is k x n (n x k transposed), C is m x n. */
  if (!check_extent(env, "A", a, trans_a ? k : m, trans_a ? m : k, lda, stride_a, batch, byte_length) ||
      !check_extent(env, "B", b, trans_b ? n : k, trans_b ? k : n, ldb, stride_b, batch, byte_length) ||
      !check_extent(env, "C", c, m, n, ldc, stride_c, batch, byte_length)) {
    return NULL;
  }

  char* base = (char*)data;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, 1.0f, (const float*)(base + a) + i * stride_a, (blasint)lda,
                (const float*)(base + b) + i * stride_b, (blasint)ldb, (float)beta,
                (float*)(base + c) + i * stride_c, (blasint)ldc);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------
 * Element-wise and row kernels on the wasm heap (zero-copy), for the training step's non-matmul work.
 * Each body is compiled twice, for AVX2+FMA and for the baseline ISA, and picked at load time by
 * __builtin_cpu_supports, so the addon runs on any x86-64 (and elsewhere: only the baseline exists).
 * Compiled with reassociation allowed (binding.gyp) so that the row reductions vectorize.
 * ------------------------------------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define LW_X86 1
#define LW_INLINE static inline __attribute__((always_inline))
#define LW_AVX2 __attribute__((target("avx2,fma")))
#else
#define LW_X86 0
#define LW_INLINE static inline
#endif

static bool use_avx2 = false;

/* Declares name(params), dispatching to an AVX2+FMA or a baseline copy of the inline body name##_body. */
#if LW_X86
#define LW_DISPATCH(name, params, args)                         \
  LW_AVX2 static void name##_avx2 params { name##_body args; } \
  static void name##_base params { name##_body args; }         \
  static void name params {                                     \
    if (use_avx2)                                               \
      name##_avx2 args;                                         \
    else                                                        \
      name##_base args;                                         \
  }
#else
#define LW_DISPATCH(name, params, args) \
  static void name params { name##_body args; }
#endif

/* x clamped to [-87, 88], where lw_exp is valid (NaN stays NaN). */
LW_INLINE float lw_exp_clamp(float x) { return x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x); }

/* e^x for float32 x in [-87, 88] (clamp first, in a loop of its own: GCC does not vectorize AVX2 loops that
 * clamp and call this together): 2^k e^r, |r| <= ln2/2, degree-7 Taylor (relative error ~2e-7). */
LW_INLINE float lw_exp(float x) {
  /* Round to nearest by truncating t +- 0.5 (a magic-number add would be folded away: the addon is compiled
   * with -fassociative-math). */
  float t = x * 1.44269504f;
  int32_t ki = (int32_t)(t + (t >= 0 ? 0.5f : -0.5f));
  float k = (float)ki;
  float r = x - k * 0.693145751953125f - k * 1.428606765330187e-6f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  int32_t bits = (ki + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

#define TWO_C 1.5957691216057308f /* 2 * sqrt(2 / pi) */
#define CUBIC 0.044715f

/* y = gelu_new(x + bias), bias broadcast over rows of n. */
/* The clamped exponent of gelu_new's sigmoid, -2c (z + 0.044715 z^3), for one row into u. */
LW_INLINE void gelu_exponents(const float* restrict xr, const float* restrict bias, int64_t n, float* restrict u) {
  for (int64_t j = 0; j < n; j++) {
    float z = xr[j] + bias[j];
    u[j] = lw_exp_clamp(-TWO_C * z * (1.0f + CUBIC * z * z));
  }
}

LW_INLINE void bias_gelu_f32_body(const float* restrict x, const float* restrict bias, int64_t rows, int64_t n,
                                  float* restrict y, float* restrict u) {
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    gelu_exponents(xr, bias, n, u);
    for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] + bias[j]) / (1.0f + lw_exp(u[j]));
  }
}
LW_DISPATCH(bias_gelu_f32,
            (const float* restrict x, const float* restrict bias, int64_t rows, int64_t n, float* restrict y,
             float* restrict u),
            (x, bias, rows, n, y, u))

/* dx = dy * gelu_new'(x + bias); dbias = column sums of dx (accumulated in double). */
LW_INLINE void bias_gelu_grad_f32_body(const float* restrict dy, const float* restrict x, const float* restrict bias,
                                       int64_t rows, int64_t n, float* restrict dx, double* restrict acc,
                                       float* restrict u) {
  for (int64_t j = 0; j < n; j++) acc[j] = 0;
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    const float* dyr = dy + row * n;
    float* dxr = dx + row * n;
    gelu_exponents(xr, bias, n, u);
    for (int64_t j = 0; j < n; j++) {
      float z = xr[j] + bias[j];
      float z2 = z * z;
      float s = 1.0f / (1.0f + lw_exp(u[j]));
      float g = dyr[j] * (s + z * s * (1.0f - s) * TWO_C * (1.0f + 3.0f * CUBIC * z2));
      dxr[j] = g;
      acc[j] += (double)g;
    }
  }
}
LW_DISPATCH(bias_gelu_grad_f32,
            (const float* restrict dy, const float* restrict x, const float* restrict bias, int64_t rows,
             int64_t n, float* restrict dx, double* restrict acc, float* restrict u),
            (dy, x, bias, rows, n, dx, acc, u))

/* Column sums of a rows x n matrix (accumulated in double). */
LW_INLINE void col_sum_f32_body(const float* restrict x, int64_t rows, int64_t n, double* restrict acc) {
  for (int64_t j = 0; j < n; j++) acc[j] = 0;
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    for (int64_t j = 0; j < n; j++) acc[j] += (double)xr[j];
  }
}
LW_DISPATCH(col_sum_f32, (const float* restrict x, int64_t rows, int64_t n, double* restrict acc),
            (x, rows, n, acc))

/* Mean and 1/sqrt(var + epsilon) of one row, two passes (the row is in cache for the second). */
LW_INLINE void row_stats(const float* restrict xr, int64_t n, float epsilon, float* mean, float* rstd) {
  float sum = 0;
  for (int64_t j = 0; j < n; j++) sum += xr[j];
  float mu = sum / (float)n;
  float squares = 0;
  for (int64_t j = 0; j < n; j++) {
    float c = xr[j] - mu;
    squares += c * c;
  }
  *mean = mu;
  *rstd = 1.0f / sqrtf(squares / (float)n + epsilon);
}

LW_INLINE void layer_norm_f32_body(const float* restrict x, const float* restrict gamma, const float* restrict beta,
                               int64_t rows, int64_t n, float epsilon, float* restrict y) {
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    float mu, rstd;
    row_stats(xr, n, epsilon, &mu, &rstd);
    for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mu) * rstd * gamma[j] + beta[j];
  }
}
LW_DISPATCH(layer_norm_f32,
            (const float* restrict x, const float* restrict gamma, const float* restrict beta, int64_t rows,
             int64_t n, float epsilon, float* restrict y),
            (x, gamma, beta, rows, n, epsilon, y))

/* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma; dgamma, dbeta column sums (double). */
LW_INLINE void layer_norm_grad_f32_body(const float* restrict dy, const float* restrict x, const float* restrict gamma,
                                    int64_t rows, int64_t n, float epsilon, float* restrict dx,
                                    double* restrict dgamma, double* restrict dbeta) {
  for (int64_t j = 0; j < n; j++) dgamma[j] = dbeta[j] = 0;
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    const float* dyr = dy + row * n;
    float* dxr = dx + row * n;
    float mu, rstd;
    row_stats(xr, n, epsilon, &mu, &rstd);
    float sum_g = 0, sum_gxhat = 0;
    for (int64_t j = 0; j < n; j++) {
      float g = dyr[j] * gamma[j];
      sum_g += g;
      sum_gxhat += g * (xr[j] - mu) * rstd;
    }
    float mean_g = sum_g / (float)n;
    float mean_gxhat = sum_gxhat / (float)n;
    for (int64_t j = 0; j < n; j++) {
      float xhat = (xr[j] - mu) * rstd;
      dxr[j] = rstd * (dyr[j] * gamma[j] - mean_g - xhat * mean_gxhat);
      dgamma[j] += (double)(dyr[j] * xhat);
      dbeta[j] += (double)dyr[j];
    }
  }
}
LW_DISPATCH(layer_norm_grad_f32,
            (const float* restrict dy, const float* restrict x, const float* restrict gamma, int64_t rows,
             int64_t n, float epsilon, float* restrict dx, double* restrict dgamma, double* restrict dbeta),
            (dy, x, gamma, rows, n, epsilon, dx, dgamma, dbeta))

/* AdamW (rest = 1 - beta): m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2, p' = p decay - step_size m' / (sqrt(v') root + eps). */
LW_INLINE void adam_f32_body(const float* restrict p, const float* restrict g, const float* restrict m,
                         const float* restrict v, int64_t size, float step_size, float beta1, float rest1,
                         float beta2, float rest2, float root_correction, float epsilon, float decay, float* restrict p_out,
                         float* restrict m_out, float* restrict v_out) {
  for (int64_t i = 0; i < size; i++) {
    float gi = g[i];
    float mi = beta1 * m[i] + rest1 * gi;
    float vi = beta2 * v[i] + rest2 * gi * gi;
    m_out[i] = mi;
    v_out[i] = vi;
    p_out[i] = p[i] * decay - step_size * mi / (sqrtf(vi) * root_correction + epsilon);
  }
}
LW_DISPATCH(adam_f32,
            (const float* restrict p, const float* restrict g, const float* restrict m, const float* restrict v,
             int64_t size, float step_size, float beta1, float rest1, float beta2, float rest2,
             float root_correction, float epsilon, float decay, float* restrict p_out, float* restrict m_out,
             float* restrict v_out),
            (p, g, m, v, size, step_size, beta1, rest1, beta2, rest2, root_correction, epsilon, decay, p_out, m_out,
             v_out))

/* log softmax of each row at its target (0 where the target is outside [0, vocab)); u: vocab floats. */
LW_INLINE void log_probs_f32_body(const float* restrict logits, const int32_t* restrict targets, int64_t rows,
                                  int64_t vocab, float* restrict out, float* restrict u) {
  for (int64_t row = 0; row < rows; row++) {
    int32_t target = targets[row];
    if (target < 0 || target >= vocab) {
      out[row] = 0;
      continue;
    }
    const float* lr = logits + row * vocab;
    float mx = lr[0];
    for (int64_t j = 1; j < vocab; j++) mx = lr[j] > mx ? lr[j] : mx;
    for (int64_t j = 0; j < vocab; j++) u[j] = lw_exp_clamp(lr[j] - mx);
    float sum = 0;
    for (int64_t j = 0; j < vocab; j++) sum += lw_exp(u[j]);
    out[row] = lr[target] - mx - logf(sum);
  }
}
LW_DISPATCH(log_probs_f32,
            (const float* restrict logits, const int32_t* restrict targets, int64_t rows, int64_t vocab,
             float* restrict out, float* restrict u),
            (logits, targets, rows, vocab, out, u))

/* dlogits = dy * (onehot(target) - softmax(logits)), the log-sum-exp recovered as logits[target] - logProb. */
LW_INLINE void log_probs_grad_f32_body(const float* restrict dy, const float* restrict logits,
                                       const int32_t* restrict targets, const float* restrict log_probs,
                                       int64_t rows, int64_t vocab, float* restrict dlogits, float* restrict u) {
  for (int64_t row = 0; row < rows; row++) {
    int32_t target = targets[row];
    const float* lr = logits + row * vocab;
    float* dr = dlogits + row * vocab;
    if (target < 0 || target >= vocab) {
      for (int64_t j = 0; j < vocab; j++) dr[j] = 0;
      continue;
    }
    float lse = lr[target] - log_probs[row];
    float d = dy[row];
    for (int64_t j = 0; j < vocab; j++) u[j] = lw_exp_clamp(lr[j] - lse);
    for (int64_t j = 0; j < vocab; j++) dr[j] = -d * lw_exp(u[j]);
    dr[target] += d;
  }
}
LW_DISPATCH(log_probs_grad_f32,
            (const float* restrict dy, const float* restrict logits, const int32_t* restrict targets,
             const float* restrict log_probs, int64_t rows, int64_t vocab, float* restrict dlogits,
             float* restrict u),
            (dy, logits, targets, log_probs, rows, vocab, dlogits, u))

/* --- N-API wrappers: (heap, byte offsets..., counts..., scalars...), every array checked to lie in the heap. */

#define MAX_ARGS 16

typedef struct {
  napi_env env;
  const char* fn;
  napi_value argv[MAX_ARGS];
  char* base;
  size_t byte_length;
  bool ok;
} call_t;

static bool begin_call(napi_env env, napi_callback_info info, const char* fn, size_t expected, call_t* call) {
  size_t argc = MAX_ARGS;
  call->env = env;
  call->fn = fn;
  call->ok = false;
  if (napi_get_cb_info(env, info, &argc, call->argv, NULL, NULL) != napi_ok) return false;
  char message[96];
  if (argc != expected) {
    snprintf(message, sizeof message, "%s: expected %zu arguments", fn, expected);
    throw_range(env, message);
    return false;
  }
  void* data;
  bool is_buffer = false;
  napi_is_arraybuffer(env, call->argv[0], &is_buffer);
  if (!is_buffer || napi_get_arraybuffer_info(env, call->argv[0], &data, &call->byte_length) != napi_ok) {
    snprintf(message, sizeof message, "%s: buffer must be an ArrayBuffer", fn);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  call->base = (char*)data;
  call->ok = true;
  return true;
}

/* Argument i as a count in [0, INT_MAX]. */
static int64_t arg_count(call_t* call, size_t i, const char* name) {
  int64_t out = 0;
  if (call->ok && !get_count(call->env, call->argv[i], name, INT_MAX, &out)) call->ok = false;
  return out;
}

/* Argument i as a number (any double). */
static double arg_number(call_t* call, size_t i, const char* name) {
  double out = 0;
  if (call->ok && napi_get_value_double(call->env, call->argv[i], &out) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "%s: %s must be a number", call->fn, name);
    napi_throw_type_error(call->env, NULL, message);
    call->ok = false;
  }
  return out;
}

/* Argument i as a byte offset of `count` floats that must lie inside the heap. */
static float* arg_floats(call_t* call, size_t i, const char* name, int64_t count) {
  if (!call->ok) return NULL;
  int64_t offset;
  if (!get_count(call->env, call->argv[i], name, (int64_t)call->byte_length, &offset)) {
    call->ok = false;
    return NULL;
  }
  char message[128];
  if (offset % (int64_t)sizeof(float) != 0 || offset + count * (int64_t)sizeof(float) > (int64_t)call->byte_length) {
    snprintf(message, sizeof message, "%s: %s must be 4-aligned and lie inside the buffer", call->fn, name);
    throw_range(call->env, message);
    call->ok = false;
    return NULL;
  }
  return (float*)(call->base + offset);
}

/* Scratch for double column sums, grown as needed (calls come from the one JS thread). */
static double* scratch = NULL;
static int64_t scratch_size = 0;
static double* scratch_doubles(call_t* call, int64_t count) {
  if (!call->ok) return NULL;
  if (count > scratch_size) {
    double* grown = (double*)realloc(scratch, (size_t)count * sizeof(double));
    if (grown == NULL) {
      napi_throw_error(call->env, NULL, "linewise native: out of memory");
      call->ok = false;
      return NULL;
    }
    scratch = grown;
    scratch_size = count;
  }
  return scratch;
}

/* Float scratch (one row), after the doubles' worth of the same buffer. */
static float* scratch_floats(call_t* call, int64_t doubles, int64_t count) {
  double* base = scratch_doubles(call, doubles + (count + 1) / 2);
  return base == NULL ? NULL : (float*)(base + doubles);
}

static void store_doubles(const double* acc, int64_t n, float* out) {
  for (int64_t j = 0; j < n; j++) out[j] = (float)acc[j];
}

/* colSum(buffer, x, rows, n, out): out[j] = sum over rows of x[row, j]. */
static napi_value col_sum(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "colSum", 5, &c)) return NULL;
  int64_t rows = arg_count(&c, 2, "rows"), n = arg_count(&c, 3, "n");
  const float* x = arg_floats(&c, 1, "x", rows * n);
  float* out = arg_floats(&c, 4, "out", n);
  double* acc = scratch_doubles(&c, n);
  if (!c.ok) return NULL;
  col_sum_f32(x, rows, n, acc);
  store_doubles(acc, n, out);
  return NULL;
}

/* biasGelu(buffer, x, bias, rows, n, y). */
static napi_value bias_gelu(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "biasGelu", 6, &c)) return NULL;
  int64_t rows = arg_count(&c, 3, "rows"), n = arg_count(&c, 4, "n");
  const float* x = arg_floats(&c, 1, "x", rows * n);
  const float* bias = arg_floats(&c, 2, "bias", n);
  float* y = arg_floats(&c, 5, "y", rows * n);
  float* u = scratch_floats(&c, 0, n);
  if (!c.ok) return NULL;
  bias_gelu_f32(x, bias, rows, n, y, u);
  return NULL;
}

/* biasGeluGrad(buffer, dy, x, bias, rows, n, dx, dbias). */
static napi_value bias_gelu_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "biasGeluGrad", 8, &c)) return NULL;
  int64_t rows = arg_count(&c, 4, "rows"), n = arg_count(&c, 5, "n");
  const float* dy = arg_floats(&c, 1, "dy", rows * n);
  const float* x = arg_floats(&c, 2, "x", rows * n);
  const float* bias = arg_floats(&c, 3, "bias", n);
  float* dx = arg_floats(&c, 6, "dx", rows * n);
  float* dbias = arg_floats(&c, 7, "dbias", n);
  float* u = scratch_floats(&c, n, n);
  double* acc = scratch;
  if (!c.ok) return NULL;
  bias_gelu_grad_f32(dy, x, bias, rows, n, dx, acc, u);
  store_doubles(acc, n, dbias);
  return NULL;
}

/* layerNorm(buffer, x, gamma, beta, rows, n, epsilon, y). */
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "layerNorm", 8, &c)) return NULL;
  int64_t rows = arg_count(&c, 4, "rows"), n = arg_count(&c, 5, "n");
  double epsilon = arg_number(&c, 6, "epsilon");
  const float* x = arg_floats(&c, 1, "x", rows * n);
  const float* gamma = arg_floats(&c, 2, "gamma", n);
  const float* beta = arg_floats(&c, 3, "beta", n);
  float* y = arg_floats(&c, 7, "y", rows * n);
  if (!c.ok) return NULL;
  if (n > 0) layer_norm_f32(x, gamma, beta, rows, n, (float)epsilon, y);
  return NULL;
}

/* layerNormGrad(buffer, dy, x, gamma, rows, n, epsilon, dx, dgamma, dbeta). */
static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "layerNormGrad", 10, &c)) return NULL;
  int64_t rows = arg_count(&c, 4, "rows"), n = arg_count(&c, 5, "n");
  double epsilon = arg_number(&c, 6, "epsilon");
  const float* dy = arg_floats(&c, 1, "dy", rows * n);
  const float* x = arg_floats(&c, 2, "x", rows * n);
  const float* gamma = arg_floats(&c, 3, "gamma", n);
  float* dx = arg_floats(&c, 7, "dx", rows * n);
  float* dgamma = arg_floats(&c, 8, "dgamma", n);
  float* dbeta = arg_floats(&c, 9, "dbeta", n);
  double* acc = scratch_doubles(&c, 2 * n);
  if (!c.ok || n == 0) return NULL;
  layer_norm_grad_f32(dy, x, gamma, rows, n, (float)epsilon, dx, acc, acc + n);
  store_doubles(acc, n, dgamma);
  store_doubles(acc + n, n, dbeta);
  return NULL;
}

/* adamUpdate(buffer, param, grad, m, v, size, paramOut, mOut, vOut, stepSize, beta1, beta2, rootCorrection,
 * epsilon, decay). */
static napi_value adam_update(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "adamUpdate", 15, &c)) return NULL;
  int64_t size = arg_count(&c, 5, "size");
  const float* p = arg_floats(&c, 1, "param", size);
  const float* g = arg_floats(&c, 2, "grad", size);
  const float* m = arg_floats(&c, 3, "m", size);
  const float* v = arg_floats(&c, 4, "v", size);
  float* p_out = arg_floats(&c, 6, "paramOut", size);
  float* m_out = arg_floats(&c, 7, "mOut", size);
  float* v_out = arg_floats(&c, 8, "vOut", size);
  double step_size = arg_number(&c, 9, "stepSize"), beta1 = arg_number(&c, 10, "beta1"),
         beta2 = arg_number(&c, 11, "beta2"), root = arg_number(&c, 12, "rootCorrection"),
         epsilon = arg_number(&c, 13, "epsilon"), decay = arg_number(&c, 14, "decay");
  if (!c.ok) return NULL;
  /* 1 - beta in double: (1 - (float)0.999) is 1.3e-5 off relative to 0.001. */
  adam_f32(p, g, m, v, size, (float)step_size, (float)beta1, (float)(1.0 - beta1), (float)beta2, (float)(1.0 - beta2),
           (float)root, (float)epsilon, (float)decay, p_out, m_out, v_out);
  return NULL;
}

/* logProbsOfTargets(buffer, logits, targets, rows, vocab, out); targets are int32. */
static napi_value log_probs(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "logProbsOfTargets", 6, &c)) return NULL;
  int64_t rows = arg_count(&c, 3, "rows"), vocab = arg_count(&c, 4, "vocab");
  const float* logits = arg_floats(&c, 1, "logits", rows * vocab);
  const int32_t* targets = (const int32_t*)arg_floats(&c, 2, "targets", rows);
  float* out = arg_floats(&c, 5, "out", rows);
  float* u = scratch_floats(&c, 0, vocab);
  if (!c.ok) return NULL;
  if (vocab > 0) log_probs_f32(logits, targets, rows, vocab, out, u);
  else for (int64_t i = 0; i < rows; i++) out[i] = 0;
  return NULL;
}

/* logProbsOfTargetsGrad(buffer, dy, logits, targets, logProbs, rows, vocab, dlogits). */
static napi_value log_probs_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin_call(env, info, "logProbsOfTargetsGrad", 8, &c)) return NULL;
  int64_t rows = arg_count(&c, 5, "rows"), vocab = arg_count(&c, 6, "vocab");
  const float* dy = arg_floats(&c, 1, "dy", rows);
  const float* logits = arg_floats(&c, 2, "logits", rows * vocab);
  const int32_t* targets = (const int32_t*)arg_floats(&c, 3, "targets", rows);
  const float* log_probs = arg_floats(&c, 4, "logProbs", rows);
  float* dlogits = arg_floats(&c, 7, "dlogits", rows * vocab);
  float* u = scratch_floats(&c, 0, vocab);
  if (!c.ok || vocab == 0) return NULL;
  log_probs_grad_f32(dy, logits, targets, log_probs, rows, vocab, dlogits, u);
  return NULL;
}

static napi_value simd(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, use_avx2 ? "avx2" : "baseline", NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int64_t threads;
  if (argc != 1 || !get_count(env, argv[0], "threads", INT_MAX, &threads)) return NULL;
  if (threads < 1) return throw_range(env, "setThreads: threads must be at least 1");
  openblas_set_num_threads((int)threads);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
  return result;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"colSum", NULL, col_sum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasGelu", NULL, bias_gelu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasGeluGrad", NULL, bias_gelu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormGrad", NULL, layer_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamUpdate", NULL, adam_update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"logProbsOfTargets", NULL, log_probs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"logProbsOfTargetsGrad", NULL, log_probs_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"simd", NULL, simd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
#if LW_X86
  __builtin_cpu_init();
  use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (getenv("LINEWISE_NATIVE_SIMD") != NULL && strcmp(getenv("LINEWISE_NATIVE_SIMD"), "baseline") == 0) {
    use_avx2 = false;
  }
#endif
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) {
    return NULL;
  }
  return exports;
}
