//! Files encrypted at rest (recordings): ChaCha20-Poly1305 (RFC 8439) in the STREAM
//! construction, so that a file of any size is sealed and opened in 64 KiB chunks, and
//! every chunk is authenticated together with its place and whether it is the last (a file
//! cut short, reordered or tampered with does not open).
//!
//! Layout: the magic `SBSEAL01` (8 bytes), a random 7-byte nonce prefix, then the chunks,
//! each up to 64 KiB of ciphertext plus its 16-byte tag. Chunk `i` uses the nonce
//! `prefix ‖ i (u32, big-endian) ‖ last (1 byte: 1 for the final chunk)`, and the header
//! as associated data. Keys are 32 random bytes, kept as 64 hex digits in a key file.

use std::io::{BufRead, BufReader, Read, Write};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const MAGIC: &[u8; 8] = b"SBSEAL01";
const PREFIX: usize = 7;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;

/// A key for sealed files.
#[derive(Clone)]
pub struct SealKey(Key);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// Why a sealed file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("not a sealed file (it does not start with SBSEAL01)")]
    NotSealed,
    #[error("chunk {0} does not authenticate: the file was changed, cut short, or sealed with another key")]
    Forged(u32),
    #[error("the file has more than 2^32 chunks")]
    TooLong,
}

impl SealKey {
    /// A new random key.
    pub fn generate() -> SealKey {
        use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        SealKey(Key::from(bytes))
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key from 64 hex digits (surrounding white space is ignored).
    pub fn from_hex(text: &str) -> Result<SealKey, String> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("a key is 64 hex digits (32 bytes)".to_owned());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(SealKey(Key::from(bytes)))
    }
}

fn nonce(prefix: &[u8; PREFIX], index: u32, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[..PREFIX].copy_from_slice(prefix);
    n[PREFIX..PREFIX + 4].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::from(n)
}

/// Fills `buffer` from `input` as far as it goes; returns how many bytes were read.
fn fill(input: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut read = 0;
    while read < buffer.len() {
        match input.read(&mut buffer[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

/// Seals everything `input` gives into `output`; returns the plaintext's length.
pub fn seal(key: &SealKey, input: impl Read, mut output: impl Write) -> Result<u64, SealError> {
    use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
    let cipher = ChaCha20Poly1305::new(&key.0);
    let mut prefix = [0u8; PREFIX];
    OsRng.fill_bytes(&mut prefix);
    let mut header = Vec::with_capacity(MAGIC.len() + PREFIX);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&prefix);
    output.write_all(&header)?;
    let mut input = BufReader::with_capacity(CHUNK, input);
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut index = 0u32;
    loop {
        let read = fill(&mut input, &mut buffer)?;
        let last = read < CHUNK || input.fill_buf()?.is_empty();
        let sealed = cipher
            .encrypt(&nonce(&prefix, index, last), Payload { msg: &buffer[..read], aad: &header })
            .expect("ChaCha20-Poly1305 seals any chunk of 64 KiB");
        output.write_all(&sealed)?;
        total += read as u64;
        if last {
            output.flush()?;
            return Ok(total);
        }
        index = index.checked_add(1).ok_or(SealError::TooLong)?;
    }
}

/// Opens a sealed file from `input` into `output`; returns the plaintext's length. Nothing
/// is written of a chunk that does not authenticate, and the error says which.
pub fn open(key: &SealKey, input: impl Read, mut output: impl Write) -> Result<u64, SealError> {
    let cipher = ChaCha20Poly1305::new(&key.0);
    let mut input = BufReader::with_capacity(CHUNK + TAG, input);
    let mut header = [0u8; MAGIC.len() + PREFIX];
    if fill(&mut input, &mut header)? != header.len() || &header[..MAGIC.len()] != MAGIC {
        return Err(SealError::NotSealed);
    }
    let mut prefix = [0u8; PREFIX];
    prefix.copy_from_slice(&header[MAGIC.len()..]);
    let mut buffer = vec![0u8; CHUNK + TAG];
    let mut total = 0u64;
    let mut index = 0u32;
    loop {
        let read = fill(&mut input, &mut buffer)?;
        let last = read < CHUNK + TAG || input.fill_buf()?.is_empty();
        let plain = cipher
            .decrypt(&nonce(&prefix, index, last), Payload { msg: &buffer[..read], aad: &header })
            .map_err(|_| SealError::Forged(index))?;
        output.write_all(&plain)?;
        total += plain.len() as u64;
        if last {
            output.flush()?;
            return Ok(total);
        }
        index = index.checked_add(1).ok_or(SealError::TooLong)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize) {
        let key = SealKey::generate();
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let mut sealed = Vec::new();
        assert_eq!(seal(&key, &plain[..], &mut sealed).unwrap(), len as u64);
        assert_eq!(sealed.len(), 15 + len + TAG * len.div_ceil(CHUNK).max(1), "{len}");
        if len >= 32 {
            assert!(!sealed.windows(32).any(|w| w == &plain[..32]), "no plaintext in the sealed file");
        }
        let mut opened = Vec::new();
        assert_eq!(open(&key, &sealed[..], &mut opened).unwrap(), len as u64);
        assert_eq!(opened, plain);
    }

    #[test]
    fn files_of_every_size_round_trip() {
        for len in [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            round_trip(len);
        }
    }

    #[test]
    fn tampering_truncation_and_the_wrong_key_are_refused() {
        let key = SealKey::generate();
        let plain = vec![42u8; 2 * CHUNK + 5];
        let mut sealed = Vec::new();
        seal(&key, &plain[..], &mut sealed).unwrap();
        let mut flipped = sealed.clone();
        flipped[15 + CHUNK + TAG + 5] ^= 1;
        assert!(matches!(open(&key, &flipped[..], std::io::sink()), Err(SealError::Forged(1))));
        // Cut after the first two chunks: the second is not marked last.
        let cut = &sealed[..15 + 2 * (CHUNK + TAG)];
        assert!(matches!(open(&key, cut, std::io::sink()), Err(SealError::Forged(1))));
        assert!(matches!(open(&SealKey::generate(), &sealed[..], std::io::sink()), Err(SealError::Forged(0))));
        assert!(matches!(open(&key, &b"RIFF...."[..], std::io::sink()), Err(SealError::NotSealed)));
        let hex = key.to_hex();
        assert_eq!(SealKey::from_hex(&format!(" {hex}\n")).unwrap().to_hex(), hex);
        assert!(SealKey::from_hex("abc").is_err());
    }
}
