//! Elementary statistics with numpy's conventions, so that users' checks in Python agree:
//! linear-interpolation quantiles (numpy's default, including its interpolation formula),
//! population std (ddof = 0), and the standard normal quantile (Wichura's AS 241, ~1e-16).

/// numpy's `quantile(a, q)` with the default linear method, for sorted `sorted`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's _lerp: a + (b − a) t, or b − (b − a)(1 − t) when t ≥ 0.5.
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// numpy's `median`: the middle value, or the mean of the two middle values.
pub fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    assert!(n > 0, "the median of an empty sample");
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// ArviZ's quantile (scipy's `mquantiles` with α = β = 1, R's type 7), operation for
/// operation: the same definition as numpy's, but its rounding differs where p(n − 1) is close
/// to an integer, and McMC draws repeat values, so a tail-ESS indicator `θ ≤ q` needs this one.
pub fn mquantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    assert!(n >= 2, "a quantile of fewer than two values");
    let aleph = n as f64 * p + (1.0 - p); // m = α + p(1 − α − β) = 1 − p exactly
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// Mean and population standard deviation (two passes).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Φ⁻¹(p), the standard normal quantile, for 0 < p < 1 (Wichura 1988, algorithm AS 241).
#[allow(clippy::excessive_precision)] // the published coefficients, digit for digit
pub fn normal_quantile(p: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0,
        "normal quantile needs 0 < p < 1 (got {p})"
    );
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                + 67265.770927008700853)
                * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                + 39307.89580009271061)
                * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = (-r.ln()).sqrt();
    let value = if r <= 5.0 {
        r -= 1.6;
        (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
            + 0.24178072517745061177)
            * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966)
                * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
            + 0.0012426609473880784386)
            * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5)
                * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 { -value } else { value }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error ~1e-15).
#[allow(clippy::excessive_precision)] // the published coefficients
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.99999999999980993,
        676.5203681218851,
        -1259.1392167224028,
        771.32342877765313,
        -176.61502916214059,
        12.507343278686905,
        -0.13857109526572012,
        9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (k, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + k as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), on the side of the mean where it converges fast.
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp() / a;
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    d = if d.abs() < tiny { tiny } else { d };
    d = 1.0 / d;
    let mut f = d;
    for m in 1..10_000 {
        let m = m as f64;
        // Even step: d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m)).
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [
            even,
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + coefficient * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = 1.0 + coefficient / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f
}

/// The quantile of Beta(a, b) at probability q, by bisection on I_x(a, b) to machine precision.
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if incomplete_beta(mid, a, b) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_numpy() {
        // numpy.quantile([1, 2, 4, 8, 16], [0.05, 0.5, 0.95]) = [1.2, 4.0, 14.4]
        let a = [1.0, 2.0, 4.0, 8.0, 16.0];
        assert!((quantile_sorted(&a, 0.05) - 1.2).abs() < 1e-15);
        assert_eq!(quantile_sorted(&a, 0.5), 4.0);
        assert!((quantile_sorted(&a, 0.95) - 14.4).abs() < 1e-14);
    }

    #[test]
    fn ln_gamma_and_beta_quantiles_match_scipy() {
        // math.lgamma and scipy.stats.beta.ppf (scipy 1.17.1).
        for (x, want) in [
            (0.3, 1.0957979948180752),
            (1.0, 0.0),
            (4.5, 2.453736570842443),
            (100.7, 362.3567752034305),
            (12345.6, 103959.18506616846),
        ] {
            assert!(
                (ln_gamma(x) - want).abs() <= 1e-13 * want.abs().max(1.0),
                "ln Γ({x})"
            );
        }
        for (a, b, lo, hi) in [
            (2.5, 7.0, 0.12477516147956927, 0.403902835207094),
            (40.2, 800.7, 0.04047507077830435, 0.055137627775773766),
            (5000.3, 95000.1, 0.049313600394656154, 0.05069199963939511),
        ] {
            for (q, want) in [(0.1586553, lo), (0.8413447, hi)] {
                let got = beta_quantile(q, a, b);
                assert!(
                    (got - want).abs() <= 1e-10 * want,
                    "Beta({a}, {b}) at {q}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn normal_quantile_matches_reference_values() {
        // scipy.stats.norm.ppf
        for (p, z) in [
            (0.975, 1.959963984540054),
            (0.5, 0.0),
            (1e-10, -6.361340902404056),
            (0.3, -0.5244005127080407),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-14 * z.abs().max(1.0),
                "p = {p}"
            );
        }
    }
}
