// Surface-wave dispersion curves of layered models, batched: one thread per (member, query), a
// query being (wave, period, mode). Ports src/physics/dispersion/ operation by operation, in
// double precision:
//   - scalar.rs / dual.rs: the number types (double, Dual<T, N>, nested Dual<Dual<double,3>,3>)
//     and the entire functions C(x) = cosh √x, S(x) = sinh √x / √x (cosh_sinhc[_scaled]);
//   - love.rs: love_secular, love_mode_count, love_bracket (bisection on the mode count);
//   - rayleigh.rs: rayleigh_secular (fast delta matrix), rayleigh_bracket (phase-limited scan);
//   - curves.rs: refine_root (Brent), phase_velocity, group_velocity, phase_velocity_gradient,
//     group_velocity_gradient (implicit differentiation of F(c, ω; p) = 0 with dual numbers).
// Models are rows (thickness, vp, vs, rho) per layer, top down, the last layer the half-space
// (LayeredModel::rows), `layers` per member, members one after another. Queries: wave (0 Love,
// 1 Rayleigh), period (s), mode (0 = fundamental). Phase velocities come first (NaN where the
// mode does not exist); the other entry points take them and skip the root search. Outputs are
// member-major: value [m * queries + q], gradient [((m * queries + q) * layers + i) * 4 + p] in
// LayerSensitivity order (thickness, vp, vs, rho; the half-space's thickness entry is 0).
// No #include: NVRTC compiles this alone, and the host tests compile it as C++17 with
// tests/emulation/cuda_host.h force-included. Secular functions take the double rows plus one
// property (layer, prop) made a dual variable, so no per-thread copy of dual rows is needed:
// the other entries become constants of the scalar type on the fly, as `rows::<S>()` makes them.

#define MAX_LAYERS 64

// ---------------------------------------------------------------------------------------------
// Number types (scalar.rs, dual.rs)

template <class T, int N>
struct Dual {
    T v;
    T d[N];
};

template <class S>
struct Num;

template <>
struct Num<double> {
    __device__ static double constant(double c) { return c; }
};

template <class T, int N>
struct Num<Dual<T, N> > {
    __device__ static Dual<T, N> constant(double c) {
        Dual<T, N> r;
        r.v = Num<T>::constant(c);
        for (int k = 0; k < N; k++) r.d[k] = Num<T>::constant(0.0);
        return r;
    }
    // The variable number `k` with value `v`.
    __device__ static Dual<T, N> variable(T v, int k) {
        Dual<T, N> r;
        r.v = v;
        for (int j = 0; j < N; j++) r.d[j] = Num<T>::constant(0.0);
        r.d[k] = Num<T>::constant(1.0);
        return r;
    }
};

// dual.rs `hyper_variable`: r.d[a].v first and r.d[a].d[b] second derivatives.
template <int N>
__device__ Dual<Dual<double, N>, N> hyper_variable(double v, int k) {
    Dual<Dual<double, N>, N> r;
    r.v = Num<Dual<double, N> >::variable(v, k);
    for (int j = 0; j < N; j++) r.d[j] = Num<Dual<double, N> >::constant(0.0);
    r.d[k] = Num<Dual<double, N> >::constant(1.0);
    return r;
}

template <class T, int N>
__device__ Dual<T, N> chain(const Dual<T, N>& x, T f, T df) {
    Dual<T, N> r;
    r.v = f;
    for (int k = 0; k < N; k++) r.d[k] = x.d[k] * df;
    return r;
}

template <class T, int N>
__device__ Dual<T, N> operator+(const Dual<T, N>& a, const Dual<T, N>& b) {
    Dual<T, N> r;
    r.v = a.v + b.v;
    for (int k = 0; k < N; k++) r.d[k] = a.d[k] + b.d[k];
    return r;
}

template <class T, int N>
__device__ Dual<T, N> operator-(const Dual<T, N>& a, const Dual<T, N>& b) {
    Dual<T, N> r;
    r.v = a.v - b.v;
    for (int k = 0; k < N; k++) r.d[k] = a.d[k] - b.d[k];
    return r;
}

template <class T, int N>
__device__ Dual<T, N> operator-(const Dual<T, N>& a) {
    return chain(a, -a.v, Num<T>::constant(-1.0));
}

template <class T, int N>
__device__ Dual<T, N> operator*(const Dual<T, N>& a, const Dual<T, N>& b) {
    Dual<T, N> r;
    r.v = a.v * b.v;
    for (int k = 0; k < N; k++) r.d[k] = a.d[k] * b.v + a.v * b.d[k];
    return r;
}

template <class T, int N>
__device__ Dual<T, N> operator/(const Dual<T, N>& a, const Dual<T, N>& b) {
    Dual<T, N> r;
    r.v = a.v / b.v;
    for (int k = 0; k < N; k++) r.d[k] = (a.d[k] - r.v * b.d[k]) / b.v;
    return r;
}

// The Scalar trait's functions for double ...
__device__ inline double s_value(double x) { return x; }
__device__ inline double s_sqrt(double x) { return sqrt(x); }
__device__ inline double s_sin(double x) { return sin(x); }
__device__ inline double s_cos(double x) { return cos(x); }
__device__ inline double s_sinh(double x) { return sinh(x); }
__device__ inline double s_cosh(double x) { return cosh(x); }
__device__ inline double s_exp(double x) { return exp(x); }
__device__ inline double s_scale(double x, double s) { return x * s; }
// Used for arguments above 0.03, where (e − 1/e)/2 loses at most a few ulps.
__device__ inline void s_cosh_sinh(double x, double& ch, double& sh) {
    double e = exp(x);
    double inv = 1.0 / e;
    ch = 0.5 * (e + inv);
    sh = 0.5 * (e - inv);
}
__device__ inline void s_cos_sin(double x, double& c, double& s) {
    s = sin(x);
    c = cos(x);
}

// ... and for duals (chain rule).
template <class T, int N>
__device__ double s_value(const Dual<T, N>& x) {
    return s_value(x.v);
}
template <class T, int N>
__device__ Dual<T, N> s_sqrt(const Dual<T, N>& x) {
    T s = s_sqrt(x.v);
    return chain(x, s, Num<T>::constant(0.5) / s);
}
template <class T, int N>
__device__ Dual<T, N> s_sin(const Dual<T, N>& x) {
    return chain(x, s_sin(x.v), s_cos(x.v));
}
template <class T, int N>
__device__ Dual<T, N> s_cos(const Dual<T, N>& x) {
    return chain(x, s_cos(x.v), -s_sin(x.v));
}
template <class T, int N>
__device__ Dual<T, N> s_sinh(const Dual<T, N>& x) {
    return chain(x, s_sinh(x.v), s_cosh(x.v));
}
template <class T, int N>
__device__ Dual<T, N> s_cosh(const Dual<T, N>& x) {
    return chain(x, s_cosh(x.v), s_sinh(x.v));
}
template <class T, int N>
__device__ Dual<T, N> s_exp(const Dual<T, N>& x) {
    T e = s_exp(x.v);
    return chain(x, e, e);
}
template <class T, int N>
__device__ Dual<T, N> s_scale(const Dual<T, N>& x, double s) {
    return chain(x, s_scale(x.v, s), Num<T>::constant(s));
}
template <class T, int N>
__device__ void s_cosh_sinh(const Dual<T, N>& x, Dual<T, N>& ch, Dual<T, N>& sh) {
    ch = s_cosh(x);
    sh = s_sinh(x);
}
template <class T, int N>
__device__ void s_cos_sin(const Dual<T, N>& x, Dual<T, N>& c, Dual<T, N>& s) {
    c = s_cos(x);
    s = s_sin(x);
}

__device__ inline double not_a_number() {
    double zero = 0.0;
    return zero / zero;
}

// Finite and positive (the caller checked size > 0).
__device__ inline bool finite_positive(double x) { return x > 0.0 && x <= 1.7976931348623157e308; }

// C(x), S(x) times e^{−√x} (value part) for √x > 20; returns √x (value part), the logarithm
// of the scaling (scalar.rs `cosh_sinhc_scaled`'s first branch).
template <class S>
__device__ double cosh_sinhc_large(S x, S& c, S& s) {
    S r = s_sqrt(x);
    double r0 = s_value(r);
    S up = s_exp(r - Num<S>::constant(r0));
    S down = s_exp(-r - Num<S>::constant(r0));
    c = s_scale(up + down, 0.5);
    s = s_scale(up - down, 0.5) / r;
    return r0;
}

// scalar.rs `cosh_sinhc`: C(x) = cosh √x (cos √−x), S(x) = sinh √x / √x (sin √−x / √−x),
// scaled by e^{−√x} above √x = 20, with a Taylor series near 0.
template <class S>
__device__ void cosh_sinhc(S x, S& c, S& s) {
    double xv = s_value(x);
    if (xv > 400.0) {
        cosh_sinhc_large(x, c, s);
    } else if (xv > 1e-3) {
        S r = s_sqrt(x);
        S ch, sh;
        s_cosh_sinh(r, ch, sh);
        c = ch;
        s = sh / r;
    } else if (xv < -1e-3) {
        S r = s_sqrt(-x);
        S co, si;
        s_cos_sin(r, co, si);
        c = co;
        s = si / r;
    } else {
        // Taylor series to x^5: the next terms are below 1e-18 relative for |x| ≤ 1e-3.
        S one = Num<S>::constant(1.0);
        c = one +
            s_scale(x, 1.0 / 2.0) *
                (one + s_scale(x, 1.0 / 12.0) *
                           (one + s_scale(x, 1.0 / 30.0) *
                                      (one + s_scale(x, 1.0 / 56.0) * (one + s_scale(x, 1.0 / 90.0)))));
        s = one +
            s_scale(x, 1.0 / 6.0) *
                (one + s_scale(x, 1.0 / 20.0) *
                           (one + s_scale(x, 1.0 / 42.0) *
                                      (one + s_scale(x, 1.0 / 72.0) * (one + s_scale(x, 1.0 / 110.0)))));
    }
}

// scalar.rs `cosh_sinhc_scaled`: C, S and the logarithm of their scaling (0 below √x = 20).
template <class S>
__device__ double cosh_sinhc_scaled(S x, S& c, S& s) {
    if (s_value(x) > 400.0) return cosh_sinhc_large(x, c, s);
    cosh_sinhc(x, c, s);
    return 0.0;
}

// ---------------------------------------------------------------------------------------------
// The model rows as scalars: every entry a constant but (var_layer, var_prop), which is `var`.

#define THICKNESS 0
#define VP 1
#define VS 2
#define RHO 3

template <class S>
struct Rows {
    const double* rows;  // layers × 4
    int n;
    int var_layer;  // -1: no variable
    int var_prop;
    S var;
    __device__ S at(int layer, int prop) const {
        if (layer == var_layer && prop == var_prop) return var;
        return Num<S>::constant(rows[4 * layer + prop]);
    }
};

// ---------------------------------------------------------------------------------------------
// Love waves (love.rs)

template <class S>
__device__ S love_secular(const Rows<S>& rows, S c, S omega) {
    S k = omega / c;
    S k2 = k * k;
    int n = rows.n;
    S beta = rows.at(n - 1, VS), rho = rows.at(n - 1, RHO);
    S w = omega / beta;
    S v = Num<S>::constant(1.0);
    S tau = -(rho * beta * beta * s_sqrt(k2 - w * w));
    S mu = rho * beta * beta;
    for (int i = n - 2; i >= 0; i--) {
        S h = rows.at(i, THICKNESS);
        beta = rows.at(i, VS);
        rho = rows.at(i, RHO);
        mu = rho * beta * beta;
        w = omega / beta;
        S nu2 = k2 - w * w;
        S cc, sc;
        cosh_sinhc(nu2 * h * h, cc, sc);
        // The inverse of the downward propagator (its determinant is cosh² − sinh² = 1).
        S v_next = cc * v - h / mu * sc * tau;
        S tau_next = cc * tau - mu * nu2 * h * sc * v;
        double size = fmax(fabs(s_value(v_next)), fabs(s_value(tau_next)) / (s_value(mu) * s_value(k)));
        double s = finite_positive(size) ? 1.0 / size : 1.0;
        v = s_scale(v_next, s);
        tau = s_scale(tau_next, s);
    }
    double tau_scaled = s_value(tau / (mu * k));
    double length = sqrt(s_value(v) * s_value(v) + tau_scaled * tau_scaled);
    return s_scale(tau / (mu * k), 1.0 / length);
}

__device__ inline long love_mode_count(const double* model, int n, double c, double omega) {
    const double pi = 3.141592653589793;
    const double half_pi = 1.5707963267948966;
    double k = omega / c;
    double v = 1.0, tau = 0.0;
    long zeros = 0;
    for (int i = 0; i < n - 1; i++) {
        double h = model[4 * i + THICKNESS], beta = model[4 * i + VS], rho = model[4 * i + RHO];
        double mu = rho * beta * beta;
        double ob = omega / beta;
        double nu2 = k * k - ob * ob;
        double cc, sc;
        cosh_sinhc(nu2 * h * h, cc, sc);
        double v_next = cc * v + h / mu * sc * tau;
        double tau_next = mu * nu2 * h * sc * v + cc * tau;
        if (nu2 < 0.0) {
            // v = R cos(ν' z − φ): zeros where ν' z − φ = π/2 + jπ, 0 < z ≤ h.
            double nu = sqrt(-nu2);
            double phi = atan2(tau / (mu * nu), v);
            double count = floor((nu * h - phi - half_pi) / pi) - floor((0.0 - phi - half_pi) / pi);
            // Rust's `as usize`: saturating, NaN to 0.
            zeros += count > 0.0 ? (long)count : 0;
        } else {
            // At most one zero of A e^{νz} + B e^{−νz} (or of a line).
            zeros += (v * v_next < 0.0) ? 1 : 0;
        }
        double size = fmax(fabs(v_next), fabs(tau_next) / (mu * k));
        double s = finite_positive(size) ? 1.0 / size : 1.0;
        v = v_next * s;
        tau = tau_next * s;
    }
    double beta = model[4 * (n - 1) + VS], rho = model[4 * (n - 1) + RHO];
    double ob = omega / beta;
    double nu = sqrt(k * k - ob * ob);
    double f = tau + rho * beta * beta * nu * v;
    return zeros + ((f * v < 0.0) ? 1 : 0);
}

__device__ inline double love_f(const double* model, int n, double c, double omega) {
    Rows<double> rows = {model, n, -1, 0, 0.0};
    return love_secular<double>(rows, c, omega);
}

// A bracket [lo, hi] of Love mode `mode`, bisecting on the mode count; false where none.
__device__ inline bool love_bracket(const double* model, int n, double omega, long mode, double& lo_out,
                                    double& hi_out) {
    double beta_min = model[VS];
    for (int i = 1; i < n; i++) beta_min = fmin(beta_min, model[4 * i + VS]);
    double lo = beta_min;
    long count_lo = 0;
    double hi = model[4 * (n - 1) + VS] * (1.0 - 1e-12);
    long count_hi = love_mode_count(model, n, hi, omega);
    if (count_hi <= mode) return false;
    for (;;) {
        if (count_lo == mode && count_hi == mode + 1 && love_f(model, n, lo, omega) * love_f(model, n, hi, omega) < 0.0) {
            break;
        }
        if (hi - lo < 1e-14 * hi) break;
        double mid = 0.5 * (lo + hi);
        long count = love_mode_count(model, n, mid, omega);
        if (count <= mode) {
            lo = mid;
            count_lo = count;
        } else {
            hi = mid;
            count_hi = count;
        }
    }
    lo_out = lo;
    hi_out = hi;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Rayleigh waves (rayleigh.rs)

template <class S>
__device__ S rayleigh_secular(const Rows<S>& rows, S c, S omega) {
    int n = rows.n;
    S k = omega / c;
    S c2 = c * c;
    S one = Num<S>::constant(1.0);
    S two = Num<S>::constant(2.0);
    S beta0 = rows.at(0, VS), rho0 = rows.at(0, RHO);
    S t = two - c2 / (beta0 * beta0);
    S mu0 = rho0 * beta0 * beta0;
    S m2 = mu0 * mu0;
    S x[5];
    x[0] = m2 * two * t;
    x[1] = -(m2 * t * t);
    x[2] = Num<S>::constant(0.0);
    x[3] = Num<S>::constant(0.0);
    x[4] = m2 * Num<S>::constant(-4.0);
    for (int i = 0; i < n - 1; i++) {
        S h = rows.at(i, THICKNESS), alpha = rows.at(i, VP), beta1 = rows.at(i, VS), rho1 = rows.at(i, RHO);
        S beta2 = rows.at(i + 1, VS), rho2 = rows.at(i + 1, RHO);
        S gamma1 = beta1 * beta1 / c2;
        S gamma2 = beta2 * beta2 / c2;
        S eps = rho2 / rho1;
        S eta = two * (gamma1 - eps * gamma2);
        S a = eps + eta;
        S a1 = a - one;
        S b = one - eta;
        S b1 = b - one;
        S kh = k * h;
        // P terms: r² = 1 − c²/α²; C, r·sinh(k r h) = kh r² S, sinh(k r h)/r = kh S.
        S r2 = one - c2 / (alpha * alpha);
        S ca, sa;
        double la = cosh_sinhc_scaled(kh * kh * r2, ca, sa);
        S r_sa = kh * r2 * sa, sa_r = kh * sa;
        // S terms, s² = 1 − c²/β².
        S s2 = one - c2 / (beta1 * beta1);
        S cb, sb;
        double lb = cosh_sinhc_scaled(kh * kh * s2, cb, sb);
        S s_sb = kh * s2 * sb, sb_s = kh * sb;
        S p1 = cb * x[1] + s_sb * x[2];
        S p2 = cb * x[3] + s_sb * x[4];
        S p3 = sb_s * x[1] + cb * x[2];
        S p4 = sb_s * x[3] + cb * x[4];
        S q1 = ca * p1 - r_sa * p2;
        S q2 = -(sa_r * p3) + ca * p4;
        S q3 = ca * p3 - r_sa * p4;
        S q4 = -(sa_r * p1) + ca * p2;
        // The first component does not pass through the layer terms: give it their scaling.
        S x0 = la + lb > 0.0 ? s_scale(x[0], exp(-(la + lb))) : x[0];
        S y1 = a1 * x0 + a * q1;
        S y2 = a * x0 + a1 * q2;
        S z1 = b * x0 + b1 * q1;
        S z2 = b1 * x0 + b * q2;
        x[0] = b1 * y1 + b * y2;
        x[1] = a * y1 + a1 * y2;
        x[2] = eps * q3;
        x[3] = eps * q4;
        x[4] = b1 * z1 + b * z2;
        double size = 0.0;
        for (int j = 0; j < 5; j++) size = fmax(size, fabs(s_value(x[j])));
        if (finite_positive(size)) {
            for (int j = 0; j < 5; j++) x[j] = s_scale(x[j], 1.0 / size);
        }
    }
    S alpha = rows.at(n - 1, VP), beta = rows.at(n - 1, VS);
    S r = s_sqrt(one - c2 / (alpha * alpha));
    S s = s_sqrt(one - c2 / (beta * beta));
    return x[1] + s * x[2] - r * (x[3] + s * x[4]);
}

// 0.93 times Viktorov's approximation of a uniform half-space's Rayleigh velocity, or β/2.
__device__ inline double rayleigh_floor(double alpha, double beta) {
    double a2 = alpha * alpha, b2 = beta * beta;
    double nu = (a2 - 2.0 * b2) / (2.0 * (a2 - b2));
    if (nu >= 0.0) return 0.93 * beta * (0.87 + 1.12 * nu) / (1.0 + nu);
    return 0.5 * beta;
}

// Σ over the layers above the half-space of ω h (√(1/α² − 1/c²)⁺ + √(1/β² − 1/c²)⁺).
__device__ inline double vertical_phase(const double* model, int n, double c, double omega) {
    double inv_c2 = 1.0 / (c * c);
    double sum = 0.0;
    for (int i = 0; i < n - 1; i++) {
        double vp = model[4 * i + VP], vs = model[4 * i + VS];
        double inv_a2 = 1.0 / (vp * vp), inv_b2 = 1.0 / (vs * vs);
        double qa = sqrt(fmax(inv_a2 - inv_c2, 0.0));
        double qb = sqrt(fmax(inv_b2 - inv_c2, 0.0));
        sum = sum + omega * model[4 * i + THICKNESS] * (qa + qb);
    }
    return sum;
}

__device__ inline double rayleigh_f(const double* model, int n, double c, double omega) {
    Rows<double> rows = {model, n, -1, 0, 0.0};
    return rayleigh_secular<double>(rows, c, omega);
}

// A bracket of Rayleigh mode `mode` by scanning upward and counting sign changes.
__device__ inline bool rayleigh_bracket(const double* model, int n, double omega, long mode, double& lo_out,
                                        double& hi_out) {
    double lo = rayleigh_floor(model[VP], model[VS]);
    for (int i = 1; i < n; i++) lo = fmin(lo, rayleigh_floor(model[4 * i + VP], model[4 * i + VS]));
    double hi = model[4 * (n - 1) + VS] * (1.0 - 1e-12);
    double max_step = (hi - lo) / 20.0;
    const double budget = 3.141592653589793 / 8.0;
    long found = 0;
    double c0 = lo, f0 = rayleigh_f(model, n, lo, omega);
    double c_prev = not_a_number(), f_prev = not_a_number();
    double phase0 = vertical_phase(model, n, lo, omega);
    while (c0 < hi) {
        double dc = max_step;
        double c1 = fmin(c0 + dc, hi);
        double phase1 = vertical_phase(model, n, c1, omega);
        while (dc > 1e-9 * hi && phase1 - phase0 > budget) {
            dc *= 0.5;
            c1 = fmin(c0 + dc, hi);
            phase1 = vertical_phase(model, n, c1, omega);
        }
        phase0 = phase1;
        double f1 = rayleigh_f(model, n, c1, omega);
        if (f0 * f1 <= 0.0 && f1 != 0.0) {
            if (found == mode) {
                lo_out = c0;
                hi_out = c1;
                return true;
            }
            found += 1;
        } else if (f_prev * f0 > 0.0 && fabs(f0) < fabs(f_prev) && fabs(f0) < fabs(f1)) {
            // |F| dips at c0 without a sign change on either side: look for a hidden pair of
            // roots in [c_prev, c1], whose ends have the sign of F at c0.
            double prev_c = c_prev, prev_f = f_prev;
            for (int j = 1; j <= 64; j++) {
                double c = c_prev + (c1 - c_prev) * (double)j / 64.0;
                double fc = j == 64 ? f1 : rayleigh_f(model, n, c, omega);
                if (prev_f * fc <= 0.0 && fc != 0.0) {
                    if (found == mode) {
                        lo_out = prev_c;
                        hi_out = c;
                        return true;
                    }
                    found += 1;
                }
                if (j < 64) {
                    prev_c = c;
                    prev_f = fc;
                }
            }
            c_prev = prev_c;
            f_prev = prev_f;
            c0 = c1;
            f0 = f1;
            continue;
        }
        c_prev = c0;
        f_prev = f0;
        c0 = c1;
        f0 = f1;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Curves (curves.rs)

#define LOVE 0
#define RAYLEIGH 1

template <class S>
__device__ S secular(int wave, const Rows<S>& rows, S c, S omega) {
    if (wave == LOVE) return love_secular(rows, c, omega);
    return rayleigh_secular(rows, c, omega);
}

__device__ inline double angular(double period) { return 2.0 * 3.141592653589793 / period; }

// Brent's method on f in [a, b] where f changes sign (curves.rs `refine_root`).
template <class F>
__device__ double refine_root(F f, double a, double b) {
    const double epsilon = 2.220446049250313e-16;
    double fa = f(a), fb = f(b);
    if (fa == 0.0) return a;
    if (fb == 0.0) return b;
    double c = a, fc = fa;
    double step = b - a;
    double step_before = step;
    for (int it = 0; it < 200; it++) {
        if ((fb > 0.0) == (fc > 0.0)) {
            c = a;
            fc = fa;
            step = b - a;
            step_before = step;
        }
        if (fabs(fc) < fabs(fb)) {
            a = b;
            fa = fb;
            b = c;
            fb = fc;
            c = a;
            fc = fa;
        }
        double tol = 2.0 * epsilon * fabs(b);
        double half = 0.5 * (c - b);
        if (fabs(half) <= tol || fb == 0.0) return b;
        if (fabs(step_before) >= tol && fabs(fa) > fabs(fb)) {
            double s = fb / fa;
            double p, q;
            if (a == c) {
                p = 2.0 * half * s;
                q = 1.0 - s;
            } else {
                double qa = fa / fc, r = fb / fc;
                p = s * (2.0 * half * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if (p > 0.0) {
                q = -q;
            } else {
                p = -p;
            }
            if (2.0 * p < fmin(3.0 * half * q - fabs(tol * q), fabs(step_before * q))) {
                step_before = step;
                step = p / q;
            } else {
                step = half;
                step_before = half;
            }
        } else {
            step = half;
            step_before = half;
        }
        a = b;
        fa = fb;
        b += fabs(step) > tol ? step : copysign(tol, half);
        fb = f(b);
    }
    return b;
}

// Phase velocity of one query, NaN where the mode does not exist.
__device__ inline double phase_velocity(const double* model, int n, int wave, double period, long mode) {
    double omega = angular(period);
    double lo, hi;
    bool found = wave == LOVE ? love_bracket(model, n, omega, mode, lo, hi)
                              : rayleigh_bracket(model, n, omega, mode, lo, hi);
    if (!found) return not_a_number();
    if (wave == LOVE) return refine_root([&](double c) { return love_f(model, n, c, omega); }, lo, hi);
    return refine_root([&](double c) { return rayleigh_f(model, n, c, omega); }, lo, hi);
}

// The thread's (member, query), false past the end of the batch.
__device__ inline bool thread_query(int members, int queries, long& member, long& query) {
    long t = (long)blockIdx.x * (long)blockDim.x + (long)threadIdx.x;
    if (t >= (long)members * (long)queries) return false;
    member = t / queries;
    query = t % queries;
    return true;
}

// c[m * queries + q]: the phase velocity (km/s) of query q for member m, NaN where none.
extern "C" __global__ void dispersion_phase(const double* models, int layers, int members, const int* waves,
                                            const double* periods, const int* modes, int queries,
                                            double* phase) {
    long m, q;
    if (!thread_query(members, queries, m, q)) return;
    const double* model = models + 4 * layers * m;
    phase[m * queries + q] = phase_velocity(model, layers, waves[q], periods[q], modes[q]);
}

// U[m * queries + q] = c / (1 − ω c_ω / c), c_ω = −F_ω/F_c, from the phase velocities.
extern "C" __global__ void dispersion_group(const double* models, int layers, int members, const int* waves,
                                            const double* periods, int queries, const double* phase,
                                            double* group) {
    typedef Dual<double, 2> D;
    long m, q;
    if (!thread_query(members, queries, m, q)) return;
    const double* model = models + 4 * layers * m;
    long at = m * queries + q;
    double c = phase[at];
    if (!(c == c)) {
        group[at] = c;
        return;
    }
    double omega = angular(periods[q]);
    Rows<D> rows = {model, layers, -1, 0, Num<D>::constant(0.0)};
    D f = secular(waves[q], rows, Num<D>::variable(c, 0), Num<D>::variable(omega, 1));
    double c_omega = -f.d[1] / f.d[0];
    group[at] = c / (1.0 - omega / c * c_omega);
}

// ∂c/∂(thickness, vp, vs, rho) of every layer: −F_p/F_c, one dual evaluation per parameter.
extern "C" __global__ void dispersion_phase_gradient(const double* models, int layers, int members,
                                                     const int* waves, const double* periods, int queries,
                                                     const double* phase, double* gradient) {
    typedef Dual<double, 2> D;
    long m, q;
    if (!thread_query(members, queries, m, q)) return;
    const double* model = models + 4 * layers * m;
    long at = m * queries + q;
    double* out = gradient + at * 4 * layers;
    double c = phase[at];
    if (!(c == c)) {
        for (int j = 0; j < 4 * layers; j++) out[j] = c;
        return;
    }
    D omega = Num<D>::constant(angular(periods[q]));
    for (int i = 0; i < layers; i++) {
        for (int p = 0; p < 4; p++) {
            if (i + 1 == layers && p == THICKNESS) {
                out[4 * i + p] = 0.0;
                continue;
            }
            Rows<D> rows = {model, layers, i, p, Num<D>::variable(model[4 * i + p], 1)};
            D f = secular(waves[q], rows, Num<D>::variable(c, 0), omega);
            out[4 * i + p] = -f.d[1] / f.d[0];
        }
    }
}

// U and ∂U/∂(thickness, vp, vs, rho) of every layer: along the root c(p),
// dc_ω/dp = G_c ∂c/∂p + G_p with G = −F_ω/F_c, from F's second derivatives in (c, ω, p).
extern "C" __global__ void dispersion_group_gradient(const double* models, int layers, int members,
                                                     const int* waves, const double* periods, int queries,
                                                     const double* phase, double* group, double* gradient) {
    typedef Dual<Dual<double, 3>, 3> H;
    long m, q;
    if (!thread_query(members, queries, m, q)) return;
    const double* model = models + 4 * layers * m;
    long at = m * queries + q;
    double* out = gradient + at * 4 * layers;
    double c = phase[at];
    if (!(c == c)) {
        group[at] = c;
        for (int j = 0; j < 4 * layers; j++) out[j] = c;
        return;
    }
    double omega = angular(periods[q]);
    double u = not_a_number();
    for (int i = 0; i < layers; i++) {
        for (int p = 0; p < 4; p++) {
            if (i + 1 == layers && p == THICKNESS) {
                out[4 * i + p] = 0.0;
                continue;
            }
            Rows<H> rows = {model, layers, i, p, hyper_variable<3>(model[4 * i + p], 2)};
            H f = secular(waves[q], rows, hyper_variable<3>(c, 0), hyper_variable<3>(omega, 1));
            double f_c = f.d[0].v, f_w = f.d[1].v, f_p = f.d[2].v;
            double f_cc = f.d[0].d[0], f_cw = f.d[0].d[1], f_cp = f.d[0].d[2], f_wp = f.d[1].d[2];
            double dc_dp = -f_p / f_c;
            double c_w = -f_w / f_c;
            double g_c = -(f_cw * f_c - f_w * f_cc) / (f_c * f_c);
            double g_p = -(f_wp * f_c - f_w * f_cp) / (f_c * f_c);
            double dcw_dp = g_c * dc_dp + g_p;
            double denominator = 1.0 - omega * c_w / c;
            u = c / denominator;
            double d_denominator = -omega * (dcw_dp * c - c_w * dc_dp) / (c * c);
            out[4 * i + p] = (dc_dp * denominator - c * d_denominator) / (denominator * denominator);
        }
    }
    group[at] = u;
}
