//! Store micro benchmarks: insert, get, a cursor page and a filtered scan at 1k, 100k and 1M
//! records. The cursor page should cost the same at every size (O(log n + page)); the filtered
//! scan grows with the records it must pass over to fill a page.
//!
//!   cargo bench --bench store

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lowcode_emu::core::store::Collection;

#[derive(Debug)]
struct Rec {
    status: u8,
    amount: u32,
}

fn id(i: usize) -> String {
    format!("{i:024x}")
}

fn filled(n: usize) -> Collection<Rec> {
    let c = Collection::default();
    c.insert_many((0..n).map(|i| (id(i), Rec { status: (i % 10) as u8, amount: (i * 37 % 1000) as u32 })));
    c
}

fn store(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(20);
    for n in [1_000usize, 100_000, 1_000_000] {
        let col = filled(n);
        let mid = id(n / 2);
        g.bench_with_input(BenchmarkId::new("get", n), &n, |b, _| b.iter(|| black_box(col.get(&mid))));
        g.bench_with_input(BenchmarkId::new("page_100_after_cursor", n), &n, |b, _| {
            b.iter(|| black_box(col.page_after(Some(&mid), 100, |_| true)))
        });
        // One record in ten matches: a page of 100 scans about a thousand.
        g.bench_with_input(BenchmarkId::new("filtered_page_100", n), &n, |b, _| {
            b.iter(|| black_box(col.page_after(None, 100, |r| r.status == 3 && r.amount < 1000)))
        });
        let mut next = n;
        g.bench_with_input(BenchmarkId::new("insert", n), &n, |b, _| {
            b.iter(|| {
                next += 1;
                col.insert(&id(next), Rec { status: 0, amount: 0 })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
