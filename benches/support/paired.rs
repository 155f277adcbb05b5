//! The paired phase, which gives the ratios: rounds that each run every contender once, back
//! to back, in an order that rotates from round to round, so each round's ratio is measured
//! under the same load of a shared machine (which drifts, over the seconds between two of
//! criterion's benchmarks, by more than the difference being measured).

/// One untimed round (connections and caches warm again), then `rounds` rounds of the
/// `contenders`: `measure(i)` runs contender `i` once and returns its time per unit of work.
/// Returns each round's times, in contender order.
pub fn rounds(
    contenders: usize,
    rounds: usize,
    mut measure: impl FnMut(usize) -> f64,
) -> Vec<Vec<f64>> {
    for index in 0..contenders {
        measure(index);
    }
    (0..rounds)
        .map(|round| {
            let mut times = vec![0.0; contenders];
            for offset in 0..contenders {
                let index = (round + offset) % contenders;
                times[index] = measure(index);
            }
            times
        })
        .collect()
}

/// The median and quartiles of `values`.
pub fn quartiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let position = q * (values.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        values[low] + (values[high] - values[low]) * (position - low as f64)
    };
    (at(0.25), at(0.5), at(0.75))
}

/// Prints `title`, then each contender's median rate (`unit`s per second) with its quartiles,
/// then the median and quartiles of each one's same-round ratio to the first contender's rate.
pub fn report(title: &str, names: &[&str], unit: &str, rounds: &[Vec<f64>]) {
    if rounds.is_empty() {
        return;
    }
    println!();
    println!("{title}");
    for (index, name) in names.iter().enumerate() {
        let (low, median, high) = quartiles(rounds.iter().map(|r| 1.0 / r[index]).collect());
        println!("  {name:<36} median {median:>8.0} {unit}/s   (quartiles {low:.0} .. {high:.0})");
    }
    for (index, name) in names.iter().enumerate().skip(1) {
        // Same-round ratio: rate(contender) / rate(first) = time(first) / time(contender).
        let (low, median, high) = quartiles(rounds.iter().map(|r| r[0] / r[index]).collect());
        println!(
            "  paired ratio {name} / {} = {median:.3}   (quartiles {low:.3} .. {high:.3})",
            names[0]
        );
    }
}
