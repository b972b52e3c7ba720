//! Shared-memory name rules: `ShmName::new` and `str::parse` agree with an
//! independent model of the rules, never touch the system, and normalise
//! idempotently.
//!
//! The model (memseg's documented rules): one optional leading `/` is
//! dropped; the rest must be non-empty, contain no `/` and no NUL, not be
//! `.` or `..`, and with its `/` be at most `ShmName::MAX_LEN` bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memseg::ShmName;
use std::io::ErrorKind;

fn model(name: &str) -> Option<String> {
    let rest = name.strip_prefix('/').unwrap_or(name);
    let ok = !rest.is_empty()
        && !rest.contains('/')
        && !rest.contains('\0')
        && rest != "."
        && rest != ".."
        && rest.len() + 1 <= ShmName::MAX_LEN;
    ok.then(|| format!("/{}", rest))
}

fuzz_target!(|data: &[u8]| {
    // Every input as text: valid UTF-8 as is, anything else lossily, so
    // replacement characters and long multi-byte names are exercised too.
    let name = String::from_utf8_lossy(data);
    let result = ShmName::new(&name);
    match (model(&name), &result) {
        (Some(want), Ok(got)) => {
            assert_eq!(got.as_str(), want);
            assert_eq!(got.as_c_str().to_bytes(), want.as_bytes());
            assert!(got.as_str().len() <= ShmName::MAX_LEN);
            // Normalising again changes nothing; with or without the slash
            // it is the same name.
            assert_eq!(&ShmName::new(got.as_str()).unwrap(), got);
            assert_eq!(&ShmName::new(&got.as_str()[1..]).unwrap(), got);
            assert_eq!(&name.parse::<ShmName>().unwrap(), got);
        }
        (None, Err(e)) => {
            // Refused by memseg itself, never by the OS.
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{:?}: {:?}", name, e);
            assert_eq!(e.raw_os_error(), None, "{:?}: {:?}", name, e);
            assert!(name.parse::<ShmName>().is_err());
        }
        (want, got) => panic!("{:?}: model says {:?}, memseg says {:?}", name, want, got),
    }
});
