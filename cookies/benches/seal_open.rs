//! Seal and open a typical access-token cookie (about 1 KB) and a chunked one,
//! next to what AES-256-GCM alone does on the same bytes (the floor: the
//! envelope's cost is the difference: nonce, base64, key id, AAD).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
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
        aes_gcm_alone(c, size, &plaintext);
    }
}

/// The same sizes through `aes-gcm` directly: a fixed nonce, no encoding.
fn aes_gcm_alone(c: &mut Criterion, size: usize, plaintext: &[u8]) {
    let cipher = Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
    let nonce = Nonce::from_slice(&[1; 12]);
    let aad = b"__Host-th-at";
    let sealed = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap();
    c.bench_function(&format!("aes-gcm encrypt {size} B"), |b| {
        b.iter(|| {
            cipher
                .encrypt(
                    nonce,
                    Payload {
                        msg: black_box(plaintext),
                        aad,
                    },
                )
                .unwrap()
        })
    });
    c.bench_function(&format!("aes-gcm decrypt {size} B"), |b| {
        b.iter(|| {
            cipher
                .decrypt(
                    nonce,
                    Payload {
                        msg: black_box(&sealed),
                        aad,
                    },
                )
                .unwrap()
        })
    });
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
