//! The seed page's walkthrough, in Rust, with two real processes sharing one
//! typed object.
//!
//! ```text
//! cargo run --example seed
//! ```
//!
//! 1. `shm_open` + `ftruncate`: create a shared-memory segment (a random,
//!    exclusive name; space reserved up front).
//! 2. `x::mmap<X>::create(fd, PROT_READ|PROT_WRITE)`: map it as a typed object.
//! 3. A second process (this program, re-run) opens the segment by name, maps
//!    the same object and updates it; the first reads the result.
//! 4. `msync`, then `shm_unlink` when the owning handle is dropped.
//! 5. `x::mmapfile`: map a whole file and read it as bytes.

use memseg::{AtomicPod, MmapFile, ReadOnly, ReadWrite, SharedMmap, Shm};
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The typed object both processes share: atomics only, so both may update
/// it at once through shared references, safely.
#[repr(C)]
struct Board {
    visits: AtomicU64,
    last_pid: AtomicU32,
    ready: AtomicU32,
}

// SAFETY: repr(C), atomics only, no padding (8 + 4 + 4 = 16 bytes, a multiple
// of the alignment 8).
unsafe impl AtomicPod for Board {}

const ROUNDS: u64 = 100_000;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--child" {
        return child(&args[2]);
    }

    // 1. Create the segment: O_RDWR | O_CREAT | O_EXCL, mode 0600, a random
    //    name, and the space reserved so a full /dev/shm fails here.
    let shm = Shm::create_unique("memseg-demo-", 4096)?;
    println!(
        "created segment {} ({} bytes)",
        shm.name().as_str(),
        shm.len()
    );

    // 2. Map it as a typed object.
    let board = SharedMmap::<Board>::create(&shm, ReadWrite)?;

    // 3. A second process updates the same object while we do.
    let mut other = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(shm.name().as_str())
        .spawn()?;
    while board.atomic().ready.load(Ordering::Acquire) == 0 {
        std::hint::spin_loop();
    }
    for _ in 0..ROUNDS {
        board.atomic().visits.fetch_add(1, Ordering::Relaxed);
    }
    let status = other.wait()?;
    if !status.success() {
        return Err(io::Error::new(
            io::ErrorKind::Other,
            format!("child failed: {}", status),
        ));
    }
    let visits = board.atomic().visits.load(Ordering::SeqCst);
    println!(
        "both processes incremented the shared counter {} times each: total {} (expected {})",
        ROUNDS,
        visits,
        2 * ROUNDS
    );
    println!(
        "last writer was process {}",
        board.atomic().last_pid.load(Ordering::SeqCst)
    );

    // 4. msync (a no-op on tmpfs, but it is the seed's call), then the drop
    //    of `shm` unlinks the segment because this process created it.
    board.msync()?;
    drop(board);
    let name = shm.name().as_str().to_owned();
    drop(shm);
    println!(
        "segment {} unlinked: open now fails with {}",
        name,
        Shm::open(&name).unwrap_err()
    );

    // 5. The seed's x::mmapfile: the whole file, as bytes.
    let path = std::env::temp_dir().join(format!("memseg-demo-{}.txt", std::process::id()));
    std::fs::write(&path, b"Hello world!")?;
    let file = std::fs::File::open(&path)?;
    // SAFETY: this program created the file and nobody changes it while mapped.
    let map = unsafe { MmapFile::create(&file, ReadOnly)? };
    println!(
        "mapped {} bytes of {}: {:?}",
        map.size(),
        path.display(),
        String::from_utf8_lossy(map.buffer())
    );
    std::fs::remove_file(&path)?;

    if visits != 2 * ROUNDS {
        return Err(io::Error::new(io::ErrorKind::Other, "lost updates"));
    }
    Ok(())
}

/// The second process: open the segment by name, map the same object, and
/// update it concurrently with the first.
fn child(name: &str) -> io::Result<()> {
    let shm = Shm::open(name)?;
    let board = SharedMmap::<Board>::create(&shm, ReadWrite)?;
    board.atomic().ready.store(1, Ordering::Release);
    for _ in 0..ROUNDS {
        board.atomic().visits.fetch_add(1, Ordering::Relaxed);
    }
    board
        .atomic()
        .last_pid
        .store(std::process::id(), Ordering::SeqCst);
    Ok(())
}
