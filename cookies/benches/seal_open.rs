//! Seal and open a typical access-token cookie (about 1 KB) and a chunked one.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use th_cookies::{CookieKey, KeyRing};

fn seal_open(c: &mut Criterion) {
    let ring = KeyRing::new(vec![CookieKey::from_bytes("k1", &[7; 32]).unwrap()]).unwrap();
    for size in [1024usize, 8192] {
        let plaintext = vec![b'x'; size];
        let sealed = ring.seal("__Host-th-at", &plaintext);
        c.bench_function(&format!("seal {size} B"), |b| {
            b.iter(|| ring.seal(black_box("__Host-th-at"), black_box(&plaintext)))
        });
        c.bench_function(&format!("open {size} B"), |b| {
            b.iter(|| {
                ring.open(black_box("__Host-th-at"), black_box(&sealed))
                    .unwrap()
            })
        });
        c.bench_function(&format!("seal+open {size} B"), |b| {
            b.iter(|| {
                let s = ring.seal("__Host-th-at", black_box(&plaintext));
                ring.open("__Host-th-at", &s).unwrap()
            })
        });
    }
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
