//! Runs a closure compiled for the widest vector instructions the CPU has (AVX-512, then
//! AVX2 + FMA on x86-64), detected at run time, so that one portable binary vectorises its hot
//! loops on every machine. Only the instruction selection changes: Rust does not fuse or
//! reorder floating-point operations, so the results are bit-identical on every path.

/// Calls `f` inside a function compiled with the best available target features; `f` is
/// inlined into it, so its loops are vectorised for that width.
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { with_avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
