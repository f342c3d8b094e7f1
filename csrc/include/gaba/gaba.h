// gaba.h - the core runtime's public C API: status codes, version, CPU
// features and ISA dispatch levels, the thread pool, the arena allocator and
// the seeded RNG. Plain C11, no Python: everything under csrc/ except
// csrc/bindings/ builds and runs without an interpreter (see tests/c/).
//
// Conventions shared by every family header (gemm.h, quant.h, ...):
//   - every entry point returns a gaba_status; nothing aborts or exits;
//   - outputs come first or in BLIS order (gemm.h), strides are in elements;
//   - each pointer carries a shape comment, e.g. `// (M, K) row-major`.
#ifndef GABA_GABA_H
#define GABA_GABA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- status ----------------------------------------------------------------

typedef enum gaba_status {
    GABA_OK = 0,
    GABA_ERR_ARG = -1,         // an argument is out of its documented range
    GABA_ERR_SHAPE = -2,       // dimensions or strides do not fit together
    GABA_ERR_NOMEM = -3,       // an allocation failed
    GABA_ERR_NO_IMPL = -4,     // the combination is valid but not implemented
    GABA_ERR_ISA = -5,         // the requested ISA level is not available
    GABA_ERR_NUMERIC = -6,     // a numerical routine did not converge
    GABA_ERR_INTERNAL = -7,    // a bug in gaba: please report it
    GABA_ERR_BUSY = -8,        // the object is running in another thread
    GABA_ERR_INTERRUPTED = -9, // this thread's interrupt check asked to stop (below)
} gaba_status;

// A short static English description, e.g. "invalid argument".
const char *gaba_status_str(gaba_status status);

// ---- interruption ------------------------------------------------------------

// Long calls (a large GEMM, the randomized SVD) poll between blocks of work,
// every few milliseconds and never inside a kernel's inner loops. A poll
// calls the check the calling thread set here (none by default: nothing is
// interrupted); when it returns nonzero the call stops and returns
// GABA_ERR_INTERRUPTED. Its outputs are then partly written; everything
// else (thread pool, OpenBLAS, scratch memory) is as after a normal return.
// The check runs only on the thread that set it, possibly while that thread
// holds gaba's thread pool: it must return quickly and never wait for a
// thread that may call gaba (the Python binding's takes no lock). Work the
// call hands to the pool stops at its next block. One LAPACK call (an exact
// SVD) is one block; gaba splits large GEMMs into several cblas_sgemm calls.
typedef int (*gaba_interrupt_fn)(void *ctx);
// Sets this thread's check (NULL: none) and its argument.
void gaba_interrupt_set(gaba_interrupt_fn check, void *ctx);
// 1 when this thread has a check and it asks to stop, else 0.
int gaba_interrupt_poll(void);
// 1 when this thread has a check: work that is faster in one piece (a
// cblas_sgemm call) is then split into blocks, and only then.
int gaba_interrupt_watched(void);

// ---- version ---------------------------------------------------------------

// The package version ("0.1.0"), baked in at build time from gaba/_version.py.
const char *gaba_version(void);

// ---- CPU features and dispatch levels ----------------------------------------

// Dispatch levels, ordered: each level implies the ones below it.
typedef enum gaba_isa {
    GABA_ISA_REF = 0,    // portable C, any x86-64 (or any CPU at all)
    GABA_ISA_AVX2 = 1,   // AVX2 + FMA (+ AVX-VNNI where present)
    GABA_ISA_AVX512 = 2, // AVX-512 F/BW/VL/DQ (+ AVX-512-VNNI where present)
    GABA_ISA_COUNT = 3,
} gaba_isa;

typedef struct gaba_cpu_info {
    char vendor[13];   // cpuid vendor string, e.g. "AuthenticAMD"
    char brand[49];    // cpuid brand string, trimmed
    int family, model; // display family and model
    // Feature bits, each already AND-ed with the OS's xsave support for the
    // register state it needs (XCR0), so a set bit means "usable".
    unsigned sse42 : 1, avx : 1, avx2 : 1, fma : 1, f16c : 1;
    unsigned avx512f : 1, avx512bw : 1, avx512vl : 1, avx512dq : 1;
    unsigned avx512vnni : 1, avx512bf16 : 1, avxvnni : 1, avx512vbmi : 1;
    gaba_isa best_isa; // the highest level all of whose features are usable
} gaba_cpu_info;

// The probe's result; the probe runs once, on first use, thread-safely.
const gaba_cpu_info *gaba_cpu(void);

// Parses "ref" | "avx2" | "avx512" (case-insensitive). GABA_ERR_ARG otherwise.
gaba_status gaba_isa_parse(const char *name, gaba_isa *isa);
const char *gaba_isa_name(gaba_isa isa);

// Initialises the runtime once: probes the CPU, picks the ISA level (the best
// one, or GABA_ISA from the environment when set), fills every family's
// kernel table. Returns GABA_ERR_ARG for an unknown GABA_ISA value and
// GABA_ERR_ISA when the CPU lacks the forced level; the message for the user
// is then in gaba_runtime_error(). Later calls return the first call's status.
gaba_status gaba_runtime_init(void);
const char *gaba_runtime_error(void);

// The level in use (valid after a successful gaba_runtime_init).
gaba_isa gaba_isa_active(void);

// ---- thread pool -------------------------------------------------------------

// A persistent pool: the caller runs task slices itself, workers spin briefly
// on a new job before they sleep, so back-to-back parallel kernels do not pay
// a cross-core wake-up (35-65 us in a VM) each time.
//
// gaba_parallel_for runs fn(ctx, task, n_tasks) once for every task in
// [0, n_tasks), on at most max_threads threads (0 = the pool's size). Tasks
// are handed out dynamically. Calls from inside a task, or while another
// thread holds the pool, run serially on the caller: nesting never deadlocks.
typedef void (*gaba_task_fn)(void *ctx, int64_t task, int64_t n_tasks);
gaba_status gaba_parallel_for(int64_t n_tasks, int max_threads, gaba_task_fn fn, void *ctx);

// Pool size: GABA_NUM_THREADS, else OMP_NUM_THREADS, else the usable cores
// (sched_getaffinity), read at first use. set() accepts 1..GABA_MAX_THREADS.
#define GABA_MAX_THREADS 256
int gaba_threads_get(void);
gaba_status gaba_threads_set(int n_threads);
int gaba_threads_usable_cores(void);

// ---- arena ---------------------------------------------------------------------

// One block carved by a bump pointer; allocations are aligned to
// GABA_ALIGN bytes. Freed as a whole (free) or back to a mark (reset).
#define GABA_ALIGN 64
typedef struct gaba_arena {
    unsigned char *base; // GABA_ALIGN-aligned block of `capacity` bytes
    size_t capacity;
    size_t used;
    size_t high_water; // the largest `used` seen since init
} gaba_arena;

gaba_status gaba_arena_init(gaba_arena *arena, size_t capacity);
void gaba_arena_free(gaba_arena *arena);
// Returns NULL when the request does not fit (the arena never grows).
void *gaba_arena_alloc(gaba_arena *arena, size_t bytes);
void gaba_arena_reset(gaba_arena *arena, size_t mark); // mark = an old `used`

// Aligned heap memory for kernels' scratch (packing buffers, temporaries).
void *gaba_aligned_alloc(size_t bytes);
void gaba_aligned_free(void *ptr);

// ---- random numbers --------------------------------------------------------------

// PCG32 (O'Neill 2014): small, fast, and the same stream on every platform,
// so a seed reproduces a model's initial weights anywhere.
typedef struct gaba_rng {
    uint64_t state;
    uint64_t inc;
} gaba_rng;

void gaba_rng_seed(gaba_rng *rng, uint64_t seed, uint64_t stream);
uint32_t gaba_rng_u32(gaba_rng *rng);
float gaba_rng_uniform(gaba_rng *rng); // [0, 1), 24 random bits
float gaba_rng_normal(gaba_rng *rng);  // N(0, 1), Box-Muller
// dst[i] ~ N(0, stddev^2) for i < n.
void gaba_rng_fill_normal(gaba_rng *rng, float *dst, int64_t n, float stddev);

#ifdef __cplusplus
}
#endif
#endif // GABA_GABA_H
