//! Speed measurement of the full detector set on generated mixed e-mail text.
//!
//! [`run`] reports the throughput of [`Scanner::scan`] plus the message-level decision
//! over a large buffer, and the latency distribution over many 10 KB messages. The text
//! is generated deterministically: ordinary prose with, every few hundred bytes, an
//! identifier, a date, a drug or diagnosis term, a link, an address or a non-ASCII word.
//! Run it in release mode; debug builds are an order of magnitude slower.

use std::fmt;
use std::time::{Duration, Instant};

use crate::decision::assess;
use crate::error::PolicyError;
use crate::names::PatientNameIndex;
use crate::scanner::Scanner;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchOptions {
    /// Size of the throughput buffer, in bytes.
    pub throughput_bytes: usize,
    /// Size of each latency message, in bytes.
    pub message_bytes: usize,
    /// Number of latency messages timed.
    pub messages: usize,
    /// Number of patient names in the name index.
    pub patient_names: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            throughput_bytes: 64 << 20,
            message_bytes: 10 << 10,
            messages: 2_000,
            patient_names: 5_000,
        }
    }
}

/// How many times the throughput buffer is scanned; the fastest pass is reported, the
/// usual way to discount interference from other work on the machine.
const PASSES: usize = 3;

/// Measured figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    /// Options used.
    pub options: BenchOptions,
    /// Megabytes (10^6 bytes) per second of wall-clock time, on one thread.
    pub throughput_mb_s: f64,
    /// Megabytes per second of the thread's CPU time (Linux), which stays meaningful on
    /// a machine busy with other work.
    pub cpu_throughput_mb_s: Option<f64>,
    /// Findings in the throughput buffer (a sanity check that detectors ran).
    pub findings: usize,
    /// Median time to scan and decide one message.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest message.
    pub max: Duration,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "DLP scan benchmark (full detector set, {} patient names, one core)",
            self.options.patient_names
        )?;
        writeln!(
            f,
            "throughput: {:.1} MB/s wall-clock, best of {PASSES} passes over {} MB ({} findings)",
            self.throughput_mb_s,
            self.options.throughput_bytes / 1_000_000,
            self.findings
        )?;
        if let Some(cpu) = self.cpu_throughput_mb_s {
            writeln!(f, "throughput: {cpu:.1} MB/s per core (thread CPU time)")?;
        }
        writeln!(
            f,
            "latency per {} KB message over {} messages: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            self.options.message_bytes / 1024,
            self.options.messages,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        )
    }
}

/// Runs the benchmark with `scanner`.
pub fn run(scanner: &Scanner, options: BenchOptions) -> Result<BenchReport, PolicyError> {
    let mut rng = Lcg(0x5eed_cafe);
    let names =
        PatientNameIndex::new((0..options.patient_names).map(|i| synthetic_name(i, &mut rng)))?;
    let big = mixed_text(options.throughput_bytes, &mut rng);

    // Warm up lazily built tables before timing.
    let _ = scanner.scan(big.get(..4096.min(big.len())).unwrap_or(""), &names);
    let mut best_wall = f64::MAX;
    let mut best_cpu: Option<f64> = None;
    let mut findings = 0;
    for _ in 0..PASSES {
        let started = Instant::now();
        let cpu_started = thread_cpu_time();
        let result = scanner.scan(&big, &names);
        std::hint::black_box(assess(&result));
        best_wall = best_wall.min(started.elapsed().as_secs_f64().max(1e-9));
        if let (Some(a), Some(b)) = (cpu_started, thread_cpu_time()) {
            let cpu = b.saturating_sub(a).as_secs_f64().max(1e-9);
            best_cpu = Some(best_cpu.map_or(cpu, |c: f64| c.min(cpu)));
        }
        findings = result.findings.len();
    }
    let throughput_mb_s = big.len() as f64 / 1e6 / best_wall;
    let cpu_throughput_mb_s = best_cpu.map(|c| big.len() as f64 / 1e6 / c);

    let messages: Vec<String> = (0..64)
        .map(|_| mixed_text(options.message_bytes, &mut rng))
        .collect();
    let mut times = Vec::with_capacity(options.messages);
    for i in 0..options.messages {
        let text = messages.get(i % messages.len()).map_or("", String::as_str);
        let started = Instant::now();
        let scanned = scanner.scan(text, &names);
        std::hint::black_box(assess(&scanned));
        times.push(started.elapsed());
    }
    times.sort_unstable();
    let at = |q: f64| {
        let index = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(index).copied().unwrap_or_default()
    };
    Ok(BenchReport {
        options,
        throughput_mb_s,
        cpu_throughput_mb_s,
        findings,
        p50: at(0.50),
        p99: at(0.99),
        max: times.last().copied().unwrap_or_default(),
    })
}

/// The calling thread's CPU time, from `/proc/thread-self/schedstat` (Linux only).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// A small deterministic generator (no dependency, same text on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or(0) % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

const WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "your",
    "with",
    "this",
    "that",
    "please",
    "thank",
    "you",
    "we",
    "will",
    "have",
    "team",
    "schedule",
    "office",
    "meeting",
    "update",
    "review",
    "next",
    "week",
    "report",
    "attached",
    "question",
    "let",
    "know",
    "about",
    "from",
    "our",
    "new",
    "process",
    "today",
    "tomorrow",
    "morning",
    "information",
    "details",
    "follow",
    "call",
    "email",
    "regarding",
    "request",
    "form",
    "policy",
    "service",
    "support",
    "available",
    "time",
    "project",
    "plan",
    "note",
    "staff",
    "training",
    "portal",
    "account",
    "access",
    "system",
];

const SPICE: &[&str] = &[
    "SSN 524-71-3302",
    "DOB: 03/14/1962",
    "MRN 00482913",
    "metformin",
    "type 2 diabetes",
    "ICD-10 E11.9",
    "call (617) 555-0142",
    "jane.roe@example.com",
    "NPI 1234567893",
    "https://portal.example.org/patients/4482913",
    "12 Oak Street",
    "Order #318-35-5069",
    "SKU J45.909",
    "Zoë Müller",
    "café",
    "March 3, 2025",
    "admitted on 2024-05-01",
    "192.0.2.44",
    "Member ID XJH123456789",
    "4111 1111 1111 1111",
    "Dear Maria Lopez",
    "lisinopril",
    "hypertension",
    "colonoscopy",
    "$1,240.00",
    "v2.3.1",
    "10:30 AM",
];

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Priya", "John", "Grace", "Liam",
];
const LAST: &[&str] = &[
    "Lopez", "Johnson", "Okafor", "Zhang", "Petrova", "Mendoza", "Raman", "Smith", "Kim", "Rossi",
];

fn synthetic_name(i: usize, rng: &mut Lcg) -> String {
    format!("{} {}{}", rng.pick(FIRST), rng.pick(LAST), i)
}

fn mixed_text(bytes: usize, rng: &mut Lcg) -> String {
    let mut text = String::with_capacity(bytes + 64);
    while text.len() < bytes {
        let word = if rng.below(40) == 0 {
            rng.pick(SPICE)
        } else {
            rng.pick(WORDS)
        };
        text.push_str(word);
        text.push(match rng.below(12) {
            0 => '\n',
            1 => ',',
            2 => '.',
            _ => ' ',
        });
        if text.ends_with(['.', ',']) {
            text.push(' ');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_throughput_and_latency_on_small_runs() {
        let scanner = Scanner::with_defaults().unwrap();
        let options = BenchOptions {
            throughput_bytes: 64 << 10,
            message_bytes: 2 << 10,
            messages: 20,
            patient_names: 50,
        };
        let report = run(&scanner, options).unwrap();
        assert!(report.throughput_mb_s > 0.0);
        assert!(report.findings > 0);
        assert!(report.p50 <= report.p99 && report.p99 <= report.max);
        assert!(report.to_string().contains("MB/s"));
    }
}
