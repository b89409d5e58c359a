//! VM throughput (steps/s) on compute-heavy guests: without a trace, producing chunks into the
//! null sink, and into a counting sink. Settings suit a 2-core machine: few samples, short runs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use poie::guests;
use poie::trace::{CountingSink, NoTrace, NullSink, TraceSink};
use poie::vm::Vm;
use std::time::Duration;

fn steps_of(elf: &[u8], input: &[u8]) -> u64 {
    let mut vm = Vm::new(elf, input.to_vec()).expect("guest loads");
    vm.run(&mut NoTrace, u64::MAX).expect("runs").steps
}

fn run_once<S: TraceSink>(elf: &[u8], input: &[u8], sink: &mut S) -> u64 {
    let mut vm = Vm::new(elf, input.to_vec()).expect("guest loads");
    vm.run(sink, u64::MAX).expect("runs").steps
}

fn vm(c: &mut Criterion) {
    let mut group = c.benchmark_group("vm");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, input) in [
        ("sort", &b"200000 1"[..]),
        ("sieve", b"2000000"),
        ("sha256", b""),
    ] {
        let g = guests::find(name).expect("guest");
        group.throughput(Throughput::Elements(steps_of(g.elf, input)));
        group.bench_function(BenchmarkId::new("no_trace", name), |b| {
            b.iter(|| run_once(g.elf, input, &mut NoTrace))
        });
        group.bench_function(BenchmarkId::new("null_sink", name), |b| {
            b.iter(|| run_once(g.elf, input, &mut NullSink))
        });
        group.bench_function(BenchmarkId::new("counting_sink", name), |b| {
            b.iter(|| run_once(g.elf, input, &mut CountingSink::default()))
        });
    }
    group.finish();
}

criterion_group!(benches, vm);
criterion_main!(benches);
