//! The benchmark harness shared by `benches/throughput.rs` and the peers
//! crate (`benches/peers`, which includes this file with `#[path]`): libtest's
//! output format and command line, without libtest's nightly-only `#[bench]`
//! and without dependencies.
//!
//! - `--bench` (what `cargo bench` passes): every selected benchmark is
//!   measured and printed as `test NAME ... bench: N ns/iter (+/- R) = M MB/s`.
//! - without `--bench` (what `cargo test --benches` runs): every selected
//!   benchmark runs once, on small sizes, and prints `test NAME ... ok`, so
//!   CI proves the benchmarks still work in seconds.
//! - `--list`: `NAME: benchmark` lines, as libtest prints them.
//!
//! Benchmarks come in groups: a case and its baselines (`read/seq_1g/mmap`,
//! `read/seq_1g/read`, `read/seq_1g/limit`). A group's benchmarks are
//! measured round-robin, one sample of each in turn, so a burst of load from
//! elsewhere on the machine hits the case and its baseline alike; after the
//! group's `test` lines come indented `ratio` lines comparing them.
//!
//! Statistics are libtest's: a sample is the time of `n` iterations divided
//! by `n`; the samples are winsorized at 5% (clamped to their 5th and 95th
//! percentiles); the figure printed is their median and the `+/-` is the
//! range (max - min) of the winsorized samples, not a standard deviation.

// Each of the two crates that include this file uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::env;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Hides `x` from the optimizer (`std::hint::black_box` is stable only from
/// Rust 1.66; memseg's MSRV is 1.63): a volatile read makes the compiler
/// assume the value is used and may have changed.
#[inline]
pub fn black_box<T>(x: T) -> T {
    // SAFETY: `&x` is a valid, aligned, initialised `T`; the bitwise copy
    // becomes the only live value because the original is forgotten, so
    // nothing is dropped twice.
    let copy = unsafe { std::ptr::read_volatile(&x) };
    std::mem::forget(x);
    copy
}

/// What the command line asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--bench`: measure.
    Bench,
    /// No `--bench`: run every benchmark once, small, as a test.
    Test,
    /// `--list`: print the names.
    List,
}

/// The sizes and sample counts, from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    /// `MEMSEG_BENCH_BIG` (default 1 GiB): the file of `read/*` and the
    /// mapping of `fault/*`. Names are built from this value even in test
    /// mode, which uses `SMOKE_BIG` bytes instead.
    pub big: usize,
    /// `MEMSEG_BENCH_MID` (default 64 MiB): `shm/lifecycle_*` and
    /// `msync/dirty_*`.
    pub mid: usize,
    /// `MEMSEG_BENCH_SAMPLES` (default 50): samples per benchmark whose
    /// iterations are batched into samples of `MEMSEG_BENCH_SAMPLE_MS`.
    pub samples: usize,
    /// `MEMSEG_BENCH_PASSES` (default 15): samples per benchmark whose single
    /// iteration is longer than a sample (a 1 GiB pass, a 64 MiB flush).
    pub passes: usize,
    /// `MEMSEG_BENCH_SAMPLE_MS` (default 10): the target length of a sample.
    pub sample: Duration,
    // `MEMSEG_BENCH_WRITE_CHUNK` (default 8 MiB) is read by `TempDir::file`,
    // `MEMSEG_BENCH_DIR` (default std::env::temp_dir()) by `TempDir::new`.
}

/// The size `big` stands for in test mode: seconds for the whole run.
pub const SMOKE_BIG: usize = 1 << 20;
/// The size `mid` stands for in test mode.
pub const SMOKE_MID: usize = 64 << 10;

impl Config {
    /// Reads the environment; exits with a message naming the variable on a
    /// value it cannot parse.
    pub fn from_env(mode: Mode) -> Config {
        Config {
            mode,
            big: env_size("MEMSEG_BENCH_BIG", 1 << 30),
            mid: env_size("MEMSEG_BENCH_MID", 64 << 20),
            samples: env_count("MEMSEG_BENCH_SAMPLES", 50).max(1),
            passes: env_count("MEMSEG_BENCH_PASSES", 15).max(1),
            sample: Duration::from_millis(env_count("MEMSEG_BENCH_SAMPLE_MS", 10).max(1) as u64),
        }
    }

    /// `big` as the bytes to actually use: tiny in test mode.
    pub fn big_bytes(&self) -> usize {
        if self.mode == Mode::Bench {
            self.big
        } else {
            SMOKE_BIG.min(self.big)
        }
    }

    /// `mid` as the bytes to actually use: tiny in test mode.
    pub fn mid_bytes(&self) -> usize {
        if self.mode == Mode::Bench {
            self.mid
        } else {
            SMOKE_MID.min(self.mid)
        }
    }
}

fn env_value(var: &str) -> Option<String> {
    match env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        _ => None,
    }
}

fn env_count(var: &str, default: usize) -> usize {
    match env_value(var) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("error: {}={:?} is not a whole number", var, v);
            process::exit(2)
        }),
    }
}

fn env_size(var: &str, default: usize) -> usize {
    match env_value(var) {
        None => default,
        Some(v) => match parse_size(&v) {
            Some(n) if n >= 4096 && n & 4095 == 0 => n,
            _ => {
                eprintln!(
                    "error: {}={:?} is not a size of whole 4 KiB pages (examples: 1g, 256m, 65536)",
                    var, v
                );
                process::exit(2)
            }
        },
    }
}

/// `"1g"`, `"64M"`, `"4k"`, `"256MiB"` or a number of bytes.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.trim_end_matches("ib").trim_end_matches('b');
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' => (&s[..s.len() - 1], 10),
        b'm' => (&s[..s.len() - 1], 20),
        b'g' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1 << shift)
}

/// The short label of a size used in benchmark names: `4k`, `64m`, `1g`.
pub fn size_label(n: usize) -> String {
    let whole = |unit: usize| n != 0 && n & (unit - 1) == 0;
    if whole(1 << 30) {
        format!("{}g", n >> 30)
    } else if whole(1 << 20) {
        format!("{}m", n >> 20)
    } else if whole(1 << 10) {
        format!("{}k", n >> 10)
    } else {
        format!("{}b", n)
    }
}

/// A size for people: `1.0 GiB`, `64.0 MiB`, `4 KiB`.
pub fn human(n: usize) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} KiB", n >> 10)
    }
}

// ---------------------------------------------------------------------------
// Statistics and formatting, as libtest does them.

/// libtest's `percentile_of_sorted`: linear interpolation between ranks.
fn percentile_of_sorted(sorted: &[f64], pct: f64) -> f64 {
    debug_assert!(!sorted.is_empty() && (0.0..=100.0).contains(&pct));
    if sorted.len() == 1 {
        return sorted[0];
    }
    if pct >= 100.0 {
        return sorted[sorted.len() - 1];
    }
    let rank = (pct / 100.0) * (sorted.len() - 1) as f64;
    let lrank = rank.floor();
    let d = rank - lrank;
    let n = lrank as usize;
    let lo = sorted[n];
    let hi = sorted[n + 1];
    lo + (hi - lo) * d
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut tmp = samples.to_vec();
    tmp.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    tmp
}

/// libtest's `winsorize`: clamps every sample to the `pct` and `100 - pct`
/// percentiles.
pub fn winsorize(samples: &mut [f64], pct: f64) {
    let tmp = sorted(samples);
    let lo = percentile_of_sorted(&tmp, pct);
    let hi = percentile_of_sorted(&tmp, 100.0 - pct);
    for s in samples {
        if *s > hi {
            *s = hi;
        } else if *s < lo {
            *s = lo;
        }
    }
}

/// The figures libtest prints for a benchmark.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Median ns per iteration of the winsorized samples.
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Winsorizes a copy of `samples` at 5% and summarizes it.
    pub fn new(samples: &[f64]) -> Summary {
        let mut w = samples.to_vec();
        winsorize(&mut w, 5.0);
        let s = sorted(&w);
        Summary {
            median: percentile_of_sorted(&s, 50.0),
            min: s[0],
            max: s[s.len() - 1],
        }
    }
}

/// The median of `values` (unwinsorized), for ratios.
fn median(values: &[f64]) -> f64 {
    percentile_of_sorted(&sorted(values), 50.0)
}

/// libtest's `fmt_thousands_sep` (the integer version it used up to Rust
/// 1.7x, which the issue asks for): `1,234,567`.
pub fn fmt_thousands_sep(mut n: usize, sep: char) -> String {
    let mut output = String::new();
    let mut trailing = false;
    for &pow in &[9, 6, 3, 0] {
        let base = 10_usize.pow(pow);
        if pow == 0 || trailing || n / base != 0 {
            if !trailing {
                let _ = write!(output, "{}", n / base);
            } else {
                let _ = write!(output, "{:03}", n / base);
            }
            if pow != 0 {
                output.push(sep);
            }
            trailing = true;
        }
        n %= base;
    }
    output
}

/// libtest's `fmt_bench_samples`: `      1,234 ns/iter (+/- 56) = 789 MB/s`.
pub fn fmt_bench(summ: &Summary, bytes: u64) -> String {
    let median = summ.median as usize;
    let deviation = (summ.max - summ.min) as usize;
    let mut out = format!(
        "{:>11} ns/iter (+/- {})",
        fmt_thousands_sep(median, ','),
        fmt_thousands_sep(deviation, ',')
    );
    if bytes != 0 {
        // libtest: bytes * 1000 / max(median ns, 1), i.e. decimal MB/s.
        let ns_iter = std::cmp::max(summ.median as u64, 1);
        let _ = write!(out, " = {} MB/s", bytes * 1000 / ns_iter);
    }
    out
}

// ---------------------------------------------------------------------------
// Benchmarks.

/// The function a benchmark runs: given `iters`, it runs the measured
/// operation that many times and returns the time spent in the measured part
/// only, so that setup and teardown (making files, `munmap`) stay outside.
pub type Routine<'a> = Box<dyn FnMut(u64) -> io::Result<Duration> + 'a>;

/// One benchmark of a group.
pub struct Bench<'a> {
    pub name: &'static str,
    /// Bytes processed per iteration, for the `MB/s` figure (0: none).
    pub bytes: u64,
    pub routine: Routine<'a>,
}

/// A benchmark named `name` (appended to the group's name) that processes
/// `bytes` per iteration.
pub fn bench<'a>(
    name: &'static str,
    bytes: u64,
    routine: impl FnMut(u64) -> io::Result<Duration> + 'a,
) -> Bench<'a> {
    Bench {
        name,
        bytes,
        routine: Box::new(routine),
    }
}

/// Runs `op` `iters` times and returns the time taken: the routine for
/// benchmarks whose every iteration is measured whole.
pub fn timed(iters: u64, mut op: impl FnMut() -> io::Result<()>) -> io::Result<Duration> {
    let start = Instant::now();
    for _ in 0..iters {
        op()?;
    }
    Ok(start.elapsed())
}

/// Runs `setup`, then the measured `op` on what it made, then drops that
/// (untimed), `iters` times, and returns the time spent in `op` alone.
pub fn timed_with_setup<S, R>(
    iters: u64,
    mut setup: impl FnMut() -> io::Result<S>,
    mut op: impl FnMut(&mut S) -> io::Result<R>,
) -> io::Result<Duration> {
    let mut total = Duration::from_secs(0);
    for _ in 0..iters {
        let mut input = setup()?;
        let start = Instant::now();
        let out = op(&mut input)?;
        total += start.elapsed();
        drop(black_box(out));
        drop(input);
    }
    Ok(total)
}

struct Measured {
    summary: Summary,
    /// Raw ns per iteration, one per round (for per-round ratios).
    rounds: Vec<f64>,
}

/// A case and its baselines, measured together; see the module docs.
pub struct Group<'h> {
    name: String,
    harness: &'h mut Harness,
    results: HashMap<&'static str, Measured>,
    reported: Vec<&'static str>,
}

impl<'h> Group<'h> {
    fn full(&self, bench: &str) -> String {
        format!("{}/{}", self.name, bench)
    }

    /// The run's configuration.
    pub fn config(&self) -> &Config {
        &self.harness.config
    }

    /// Whether test mode (run once, small) rather than measuring.
    pub fn is_test(&self) -> bool {
        self.harness.config.mode != Mode::Bench
    }

    /// Whether `bench` passed the filters.
    pub fn selected(&self, bench: &str) -> bool {
        self.harness.selected(&self.full(bench))
    }

    /// Whether any of `benches` passed the filters: set-up worth doing.
    pub fn any_selected(&self, benches: &[&str]) -> bool {
        benches.iter().any(|b| self.selected(b))
    }

    fn report(&mut self, bench: &'static str, outcome: Result<String, String>) {
        self.reported.push(bench);
        let full = self.full(bench);
        self.harness.report(&full, outcome);
    }

    /// Reports `bench` as failed with `err`, unless it was reported already.
    pub fn fail(&mut self, bench: &'static str, err: &dyn std::fmt::Display) {
        if self.selected(bench) && !self.reported.contains(&bench) {
            self.report(bench, Err(err.to_string()));
        }
    }

    /// Reports `bench` as ignored (libtest's `ignored, reason`): what it
    /// needs is missing on this system.
    pub fn ignore(&mut self, bench: &'static str, reason: &str) {
        if self.selected(bench) && !self.reported.contains(&bench) {
            self.reported.push(bench);
            let full = self.full(bench);
            self.harness.ignore(&full, reason);
        }
    }

    /// Measures the selected `benches` round-robin (or, in test mode, runs
    /// each once) and prints a `test` line for each.
    pub fn measure(&mut self, benches: Vec<Bench<'_>>) {
        self.measure_with(benches, false)
    }

    /// Like [`measure`](Self::measure), but takes every sample of one
    /// benchmark before moving to the next. For benchmarks whose cost
    /// depends on what ran just before them: a first touch of fresh memory
    /// is slower on memory the machine's host took back after the previous
    /// benchmark freed it (see `fault/*` in `benches/RESULTS.md`).
    pub fn measure_blocked(&mut self, benches: Vec<Bench<'_>>) {
        self.measure_with(benches, true)
    }

    fn measure_with(&mut self, benches: Vec<Bench<'_>>, blocked: bool) {
        let mut benches: Vec<Bench<'_>> = benches
            .into_iter()
            .filter(|b| self.selected(b.name) && !self.reported.contains(&b.name))
            .collect();
        if self.is_test() {
            for b in &mut benches {
                let outcome = (b.routine)(1)
                    .map(|_| String::from("ok"))
                    .map_err(|e| e.to_string());
                self.report(b.name, outcome);
            }
            return;
        }
        let target = self.harness.config.sample;
        // Calibrate (and warm up): grow the batch until it takes a tenth of
        // a sample, then scale it to a whole sample.
        let mut plan: Vec<(usize, u64)> = Vec::new(); // (index, iterations per sample)
        let mut long = false;
        for (i, b) in benches.iter_mut().enumerate() {
            match calibrate(&mut b.routine, target) {
                Ok((n, single_long)) => {
                    long |= single_long;
                    plan.push((i, n));
                }
                Err(e) => {
                    let name = b.name;
                    self.report(name, Err(e.to_string()));
                }
            }
        }
        let rounds = if long {
            self.harness.config.passes
        } else {
            self.harness.config.samples
        };
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); benches.len()];
        let mut failed: Vec<Option<io::Error>> = (0..benches.len()).map(|_| None).collect();
        let mut sample = |i: usize, n: u64, keep: bool| {
            if failed[i].is_none() {
                match (benches[i].routine)(n) {
                    Ok(d) if keep => samples[i].push(d.as_nanos() as f64 / n as f64),
                    Ok(_) => {}
                    Err(e) => failed[i] = Some(e),
                }
            }
        };
        if blocked {
            for &(i, n) in &plan {
                // Warm up again: the calibration ran before the others.
                sample(i, n, false);
                for _ in 0..rounds {
                    sample(i, n, true);
                }
            }
        } else {
            for _ in 0..rounds {
                for &(i, n) in &plan {
                    sample(i, n, true);
                }
            }
        }
        for &(i, _) in &plan {
            let name = benches[i].name;
            if let Some(e) = failed[i].take() {
                self.report(name, Err(e.to_string()));
                continue;
            }
            let summary = Summary::new(&samples[i]);
            self.report(
                name,
                Ok(format!("bench: {}", fmt_bench(&summary, benches[i].bytes))),
            );
            let rounds = std::mem::take(&mut samples[i]);
            self.results.insert(name, Measured { summary, rounds });
        }
    }

    /// Prints the throughput of the best of `nums` relative to `den`
    /// (`den`'s time / `num`'s time: above 1 means `num` is faster), with
    /// the range of the same ratio taken round by round, and whether it
    /// meets `goal` (a minimum). Nothing in test mode or when one of them
    /// was not measured.
    pub fn ratio(&mut self, nums: &[&'static str], den: &'static str, goal: Option<f64>) {
        let den_m = match self.results.get(den) {
            Some(m) => m,
            None => return,
        };
        let mut best: Option<(&'static str, f64)> = None;
        for &num in nums {
            let m = match self.results.get(num) {
                Some(m) => m,
                None => return,
            };
            let r = den_m.summary.median / m.summary.median;
            if !matches!(best, Some((_, b)) if b >= r) {
                best = Some((num, r));
            }
        }
        let (num, r) = match best {
            Some(b) => b,
            None => return,
        };
        let per_round: Vec<f64> = self.results[num]
            .rounds
            .iter()
            .zip(&den_m.rounds)
            .map(|(n, d)| d / n)
            .collect();
        let lo = per_round.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = per_round.iter().cloned().fold(0.0, f64::max);
        let mut line = format!("    ratio {}: ", self.name);
        if nums.len() > 1 {
            let _ = write!(line, "best of ({}) is ", nums.join(", "));
        }
        let _ = write!(
            line,
            "{}/{} = {:.3}x throughput (per round {:.3}..{:.3}, median {:.3}",
            num,
            den,
            r,
            lo,
            hi,
            median(&per_round)
        );
        if let Some(goal) = goal {
            let verdict = if r >= goal { "met" } else { "NOT MET" };
            let _ = write!(line, "; goal >= {}: {}", goal, verdict);
            self.harness
                .goals
                .push((format!("{}: {}/{}", self.name, num, den), r, goal));
        }
        line.push(')');
        self.harness.line(&line);
    }

    /// Prints an indented note after the group's lines (bench mode only).
    pub fn note(&mut self, text: &str) {
        if !self.is_test() {
            self.harness
                .line(&format!("    note {}: {}", self.name, text));
        }
    }
}

/// Returns the batch size that fills `target`, and whether a single
/// iteration already takes longer than a sample. The runs are warm-up.
fn calibrate(routine: &mut Routine<'_>, target: Duration) -> io::Result<(u64, bool)> {
    let single = routine(1)?;
    if single >= target / 2 {
        // One more untimed pass so the first sample is not the second run.
        routine(1)?;
        return Ok((1, single >= target));
    }
    let mut n = 1u64;
    let mut took = single;
    while took < target / 10 && n < 1 << 32 {
        n *= 10;
        took = routine(n)?;
    }
    let per_iter = took.as_nanos() as f64 / n as f64;
    let n = (target.as_nanos() as f64 / per_iter.max(0.001)).max(1.0) as u64;
    Ok((n, false))
}

type GroupFn<'a> = Box<dyn FnOnce(&mut Group<'_>) -> io::Result<()> + 'a>;

struct Registered<'a> {
    name: String,
    benches: Vec<&'static str>,
    run: GroupFn<'a>,
}

/// libtest's command line, parsed.
#[derive(Debug, Default)]
struct Args {
    bench: bool,
    list: bool,
    exact: bool,
    ignored: bool,
    filters: Vec<String>,
    skip: Vec<String>,
}

impl Args {
    /// Parses libtest's options; the ones that do not apply here
    /// (`--nocapture`, `--test-threads N`, `-q`, `--color X`, ...) are
    /// accepted and ignored, as cargo may pass them.
    fn parse(args: impl Iterator<Item = String>, bench_by_default: bool) -> Args {
        let mut a = Args {
            bench: bench_by_default,
            ..Args::default()
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => a.bench = true,
                "--test" => a.bench = false,
                "--list" => a.list = true,
                "--exact" => a.exact = true,
                "--ignored" => a.ignored = true,
                "--skip" => a.skip.extend(args.next()),
                // Options that take a value as the next argument.
                "--test-threads" | "--format" | "--color" | "--logfile" | "--shuffle-seed"
                | "-Z"
                    if matches!(args.peek(), Some(v) if !v.starts_with('-')) =>
                {
                    args.next();
                }
                s if s.starts_with("--skip=") => a.skip.push(s["--skip=".len()..].to_owned()),
                s if s.starts_with('-') => {}
                _ => a.filters.push(arg),
            }
        }
        a
    }
}

/// Runs registered groups and prints libtest's header, lines and footer.
pub struct Harness {
    config: Config,
    args: Args,
    width: usize,
    start: Instant,
    passed: usize,
    measured: usize,
    ignored: usize,
    failures: Vec<(String, String)>,
    goals: Vec<(String, f64, f64)>,
}

impl Harness {
    /// Reads `env::args()` and the environment. `bench_by_default` is for a
    /// program run directly (the peers binary): it measures unless given
    /// `--test`.
    pub fn from_env(bench_by_default: bool) -> Harness {
        let args = Args::parse(env::args().skip(1), bench_by_default);
        let mode = if args.list {
            Mode::List
        } else if args.bench {
            Mode::Bench
        } else {
            Mode::Test
        };
        Harness {
            config: Config::from_env(mode),
            args,
            width: 0,
            start: Instant::now(),
            passed: 0,
            measured: 0,
            ignored: 0,
            failures: Vec::new(),
            goals: Vec::new(),
        }
    }

    /// The run's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn selected(&self, name: &str) -> bool {
        if self.args.ignored {
            // Only #[ignore]d tests would run; there are none.
            return false;
        }
        let matches = |f: &String| {
            if self.args.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.args.filters.is_empty() || self.args.filters.iter().any(matches))
            && !self.args.skip.iter().any(matches)
    }

    fn line(&mut self, text: &str) {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let _ = writeln!(out, "{}", text);
        let _ = out.flush();
    }

    fn report(&mut self, name: &str, outcome: Result<String, String>) {
        let padded = if self.config.mode == Mode::Bench {
            format!("{:<width$}", name, width = self.width)
        } else {
            name.to_owned()
        };
        let result = match outcome {
            Ok(text) => {
                if self.config.mode == Mode::Bench {
                    self.measured += 1;
                } else {
                    self.passed += 1;
                }
                text
            }
            Err(msg) => {
                self.failures.push((name.to_owned(), msg));
                "FAILED".to_owned()
            }
        };
        self.line(&format!("test {} ... {}", padded, result));
    }

    fn ignore(&mut self, name: &str, reason: &str) {
        self.ignored += 1;
        let padded = if self.config.mode == Mode::Bench {
            format!("{:<width$}", name, width = self.width)
        } else {
            name.to_owned()
        };
        self.line(&format!("test {} ... ignored, {}", padded, reason));
    }

    /// Runs every registered group that has a selected benchmark, then
    /// prints the footer; returns the exit code (0, or 101 like libtest
    /// when something failed).
    pub fn run(mut self, groups: Vec<GroupSpec<'_>>) -> i32 {
        let groups: Vec<Registered<'_>> = groups.into_iter().map(|g| g.0).collect();
        let all: Vec<String> = groups
            .iter()
            .flat_map(|g| g.benches.iter().map(move |b| format!("{}/{}", g.name, b)))
            .collect();
        let selected = all.iter().filter(|n| self.selected(n)).count();
        let filtered_out = all.len() - selected;
        if self.config.mode == Mode::List {
            for name in all.iter().filter(|n| self.selected(n)) {
                println!("{}: benchmark", name);
            }
            if selected != 0 {
                println!();
            }
            println!("0 tests, {}", plural(selected, "benchmark"));
            return 0;
        }
        // libtest pads benchmark names to the longest name before filtering.
        self.width = all.iter().map(|n| n.len()).max().unwrap_or(0);
        self.start = Instant::now();
        self.line(&format!("\nrunning {}", plural(selected, "test")));
        for g in groups {
            if !g
                .benches
                .iter()
                .any(|b| self.selected(&format!("{}/{}", g.name, b)))
            {
                continue;
            }
            let names = g.benches.clone();
            let mut group = Group {
                name: g.name,
                harness: &mut self,
                results: HashMap::new(),
                reported: Vec::new(),
            };
            let run = g.run;
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| run(&mut group)));
            let err = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(p) => Some(panic_message(&p)),
            };
            // Every selected benchmark of the group gets exactly one line.
            let msg = err.unwrap_or_else(|| "the group did not run this benchmark".to_owned());
            for b in names {
                group.fail(b, &msg);
            }
        }
        let failed = self.failures.len();
        if failed != 0 {
            println!("\nfailures:\n");
            for (name, msg) in &self.failures {
                println!("---- {} stdout ----\n{}\n", name, msg);
            }
            println!("\nfailures:");
            for (name, _) in &self.failures {
                println!("    {}", name);
            }
        }
        println!(
            "\ntest result: {}. {} passed; {} failed; {} ignored; {} measured; {} filtered out; finished in {:.2}s\n",
            if failed == 0 { "ok" } else { "FAILED" },
            self.passed,
            failed,
            self.ignored,
            self.measured,
            filtered_out,
            self.start.elapsed().as_secs_f64()
        );
        if failed == 0 {
            0
        } else {
            101
        }
    }

    /// The goals checked by `ratio` so far: (what, measured, goal).
    pub fn goals(&self) -> &[(String, f64, f64)] {
        &self.goals
    }
}

/// A group to register with [`Harness::run`]: its name, the names of its
/// benchmarks (known up front for `--list`, the header's count and the
/// name padding), and the function that measures them.
pub struct GroupSpec<'a>(Registered<'a>);

/// A group named `name` with benchmarks `benches`, measured by `run`.
pub fn group<'a>(
    name: impl Into<String>,
    benches: &[&'static str],
    run: impl FnOnce(&mut Group<'_>) -> io::Result<()> + 'a,
) -> GroupSpec<'a> {
    GroupSpec(Registered {
        name: name.into(),
        benches: benches.to_vec(),
        run: Box::new(run),
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {}", word)
    } else {
        format!("{} {}s", n, word)
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {}", s)
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {}", s)
    } else {
        "panicked".to_owned()
    }
}

// ---------------------------------------------------------------------------
// Workloads and fixtures shared by the benchmarks.

/// The sum of every byte of `data`, at memory speed: eight bytes at a time
/// in 16-bit lanes (SWAR), which the compiler vectorizes. Fast enough
/// (about 30 GB/s on one core of the reference machine) that a pass over a
/// large buffer is bound by memory, not by the arithmetic, so the cost of
/// reaching the bytes (page faults, copies) is what the comparison shows.
///
/// Never inlined: every benchmark runs the same machine code, so a
/// difference between two of them is not the optimizer's doing (inlined
/// into the peers' closures it ran 10% slower in one of them).
#[inline(never)]
pub fn sum_bytes(data: &[u8]) -> u64 {
    const LO: u64 = 0x00ff_00ff_00ff_00ff;
    // 128 words add at most 128 * 2 * 255 = 65,280 to a 16-bit lane.
    const WORDS: usize = 128;
    let mut total = 0u64;
    let mut blocks = data.chunks_exact(8 * WORDS);
    for block in &mut blocks {
        let mut acc = 0u64;
        for w in block.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            let w = u64::from_ne_bytes(b);
            acc += (w & LO) + ((w >> 8) & LO);
        }
        let pairs = (acc & 0x0000_ffff_0000_ffff) + ((acc >> 16) & 0x0000_ffff_0000_ffff);
        total += (pairs & 0xffff_ffff) + (pairs >> 32);
    }
    total
        + blocks
            .remainder()
            .iter()
            .map(|&b| u64::from(b))
            .sum::<u64>()
}

/// Writes one byte in every page of `data` (volatile, so the stores are
/// kept): the first touch that faults each page in.
pub fn touch_write(data: &mut [u8], page: usize) {
    let ptr = data.as_mut_ptr();
    let mut i = 0;
    while i < data.len() {
        // SAFETY: i < data.len(), so ptr + i is inside the slice we borrow
        // mutably.
        unsafe { std::ptr::write_volatile(ptr.add(i), 1) };
        i += page;
    }
}

/// Reads one byte in every page of `data` (volatile) and returns their sum.
pub fn touch_read(data: &[u8], page: usize) -> u64 {
    let ptr = data.as_ptr();
    let mut sum = 0u64;
    let mut i = 0;
    while i < data.len() {
        // SAFETY: i < data.len(), so ptr + i is inside the borrowed slice.
        sum += u64::from(unsafe { std::ptr::read_volatile(ptr.add(i)) });
        i += page;
    }
    sum
}

/// `len` bytes of a fixed pseudo-random pattern starting at byte `offset`
/// of the stream, so every file's contents (and sum) are reproducible.
pub fn pattern(offset: usize, len: usize) -> Vec<u8> {
    (offset..offset + len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A directory under `std::env::temp_dir()` (or `MEMSEG_BENCH_DIR`),
/// removed with everything in it when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> io::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = env::var_os("MEMSEG_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(env::temp_dir);
        let path = base.join(format!(
            "memseg-bench-{}-{}-{}",
            tag,
            process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {}", path.display(), e)))?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates `name` in the directory with `len` bytes of [`pattern`],
    /// written `MEMSEG_BENCH_WRITE_CHUNK` bytes (default 8 MiB) at a time;
    /// opened read-write.
    ///
    /// The chunk matters: a file system with large folios (ext4, xfs on
    /// Linux 6.x) caches each `write` in folios up to its size, so 8 MiB
    /// writes leave 2 MiB folios that a mapping gets with one fault and one
    /// PMD each, while 1 MiB writes leave 1 MiB folios mapped with 4 KiB
    /// page table entries (RESULTS.md has both).
    pub fn file(&self, name: &str, len: usize) -> io::Result<File> {
        let step = env_size("MEMSEG_BENCH_WRITE_CHUNK", 8 << 20);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.path.join(name))?;
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(step);
            file.write_all(&pattern(done, chunk))?;
            done += chunk;
        }
        Ok(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The sum of [`pattern`]`(0, len)`, computed 1 MiB at a time.
pub fn pattern_sum(len: usize) -> u64 {
    let mut sum = 0;
    let mut done = 0;
    while done < len {
        let chunk = (len - done).min(1 << 20);
        sum += sum_bytes(&pattern(done, chunk));
        done += chunk;
    }
    sum
}

/// An error saying the bytes read back were not the bytes written.
pub fn check_sum(got: u64, want: u64) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sum is {}, expected {}", got, want),
        ))
    }
}

/// The value of `field` (in kB) in `/proc/self/smaps` for the mapping that
/// contains `addr`, e.g. `AnonHugePages` or `FilePmdMapped`: whether the
/// kernel actually used huge pages. `None` where there is no smaps.
pub fn smaps_kb(addr: usize, field: &str) -> Option<u64> {
    let text = fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-') {
            if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = lo <= addr && addr < hi;
                continue;
            }
        }
        if inside {
            if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
                return rest.trim().trim_end_matches("kB").trim().parse().ok();
            }
        }
    }
    None
}

/// The first line of a file under /proc or /sys, trimmed.
pub fn sys_value(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.lines().next().unwrap_or("").trim().to_owned())
}
